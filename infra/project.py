"""The deployment's names in one place: region, runtime, service accounts, secrets, function URLs."""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east4"
FIRESTORE_LOCATION = "us-east4"  # regional, beside the functions: the limiter's commit is on every request
FIRESTORE_DATABASE = "(default)"
RUNTIME = "python311"  # what the tests run on
API_ID = "alpaca-api"  # the API Gateway API
GATEWAY_ID = "alpaca-gateway"
PAPER_URL = "https://paper-api.alpaca.markets"

# Environment variable -> Secret Manager secret, mounted pinned to a version (README, Rotation).
SECRETS = {
    "ALPACA_API_KEY": "alpaca-api-key",
    "ALPACA_SECRET_KEY": "alpaca-secret-key",
    "GATEWAY_CALLERS": "gateway-callers",
}
# Service account ids and what each one is for.
ACCOUNTS = {
    "runtime": "ee-runtime",  # every function runs as it: Firestore user, reads the three secrets
    "gateway": "ee-gateway",  # API Gateway calls the HTTP functions as it
    "scheduler": "ee-scheduler",  # Cloud Scheduler's OIDC identity for the scheduled functions
    "events": "ee-events",  # Eventarc delivers Firestore events as it
    "build": "ee-build",  # Cloud Build runs cloudbuild.yaml and the function builds as it
}


@dataclass(frozen=True)
class Project:
    id: str
    region: str = REGION

    def account(self, role: str) -> str:
        """The e-mail of one of ACCOUNTS."""
        return f"{ACCOUNTS[role]}@{self.id}.iam.gserviceaccount.com"

    def account_resource(self, role: str) -> str:
        return f"projects/{self.id}/serviceAccounts/{self.account(role)}"

    def function_url(self, name: str) -> str:
        """A gen2 function's stable URL; also the audience of the OIDC tokens that call it."""
        return f"https://{self.region}-{self.id}.cloudfunctions.net/{name}"
