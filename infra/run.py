"""`make run`: the Firestore emulator, the sandbox broker and the gateway, until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from infra.eventarc import start_eventarc
from infra.stack import ROOT, Service, answers, spawn, start_emulator, start_sandbox

DEFAULTS = {
    "ALPACA_API_KEY": "sandbox-key",
    "ALPACA_SECRET_KEY": "sandbox-secret",
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8085",
    "GOOGLE_CLOUD_PROJECT": "execution-engine-local",
    "GATEWAY_DEV_TOKEN": "dev-token",
}
LOCAL_DEVELOPER = (
    "no credential   from this machine (Host 127.0.0.1 or localhost), a request without any credential is\n"
    "                served as the local developer with every scope, so the seed's curl lines work as\n"
    "                written; any credential given is checked as usual"
)


def start_gateway(env: dict[str, str], port: int, log_dir: Path) -> Service:
    url = f"http://127.0.0.1:{port}/api/alpaca"
    args = [sys.executable, "-m", "infra.gateway_server", "--port", str(port)]
    ready = answers(f"{url}/openapi.json", lambda r: r.status_code == 200)
    return spawn("gateway", args, url, ready, env=env, log_dir=log_dir)


def custom_keys(env: dict[str, str]) -> bool:
    return (env["ALPACA_API_KEY"], env["ALPACA_SECRET_KEY"]) != (
        DEFAULTS["ALPACA_API_KEY"],
        DEFAULTS["ALPACA_SECRET_KEY"],
    )


def _accounts_file(key: str, secret: str) -> Path | None:
    """With keys of your own, the embedded sandbox's one account takes them (the file lives in a private
    temporary directory, never beside the logs)."""
    if not custom_keys({"ALPACA_API_KEY": key, "ALPACA_SECRET_KEY": secret}):
        return None
    path = Path(tempfile.mkdtemp(prefix="execution-engine-")) / "accounts.json"
    path.write_text(json.dumps([{"key": key, "secret": secret}]))
    path.chmod(0o600)
    return path


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The local stack: emulator, sandbox and gateway.")
    parser.add_argument("--gateway-port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8001")))
    parser.add_argument("--sandbox-port", type=int, default=8002)
    parser.add_argument("--log-dir", type=Path, default=ROOT / ".run")
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    log_dir: Path = args.log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    sandbox = f"http://127.0.0.1:{args.sandbox_port}"
    defaults = {**DEFAULTS, "ALPACA_BASE_URL": sandbox, "ALPACA_DATA_URL": sandbox}
    env = {name: os.environ.get(name) or value for name, value in defaults.items()}
    # The credential-less local developer only when the upstream is the sandbox started here.
    embedded = "ALPACA_BASE_URL" not in os.environ
    if embedded:
        env["GATEWAY_LOCAL_DEVELOPER"] = "true"
    services: list[Service] = []
    accounts: Path | None = None
    try:
        if "FIRESTORE_EMULATOR_HOST" not in os.environ:
            port = int(env["FIRESTORE_EMULATOR_HOST"].rsplit(":", 1)[1])
            services.append(start_emulator(port, log_dir=log_dir))
        if embedded:
            accounts = _accounts_file(env["ALPACA_API_KEY"], env["ALPACA_SECRET_KEY"])
            extra = ["--accounts", str(accounts)] if accounts else None
            services.append(start_sandbox(args.sandbox_port, extra_args=extra, log_dir=log_dir))
        services.append(start_gateway(env, args.gateway_port, log_dir))
        services.append(start_eventarc(env, args.gateway_port, log_dir))  # audit/* -> notify_on_audit
        print(f"firestore emulator  {env['FIRESTORE_EMULATOR_HOST']}")
        keys = "keys sandbox-key / sandbox-secret" if not custom_keys(env) else "your ALPACA_API_KEY"
        print(f"sandbox broker      {env['ALPACA_BASE_URL']}  ({keys})")
        token = "dev-token" if env["GATEWAY_DEV_TOKEN"] == "dev-token" else "$GATEWAY_DEV_TOKEN"
        gateway_url = next(s.url for s in services if s.name == "gateway")
        print(f"gateway             {gateway_url}  (Authorization: Bearer {token})")
        print("eventarc stand-in   new audit/* documents -> notify_on_audit (POST /events/notify_on_audit)")
        if embedded:
            print(LOCAL_DEVELOPER)
        print(f"logs                {log_dir}/   Ctrl-C stops everything", flush=True)
        signal.signal(signal.SIGTERM, _interrupt)
        while all(s.process.poll() is None for s in services):
            time.sleep(0.5)
        stopped = next(s for s in services if s.process.poll() is not None)
        print(f"{stopped.name} exited; stopping the rest\n{stopped.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
        return 0
    finally:
        for service in reversed(services):
            service.stop()
        if accounts:
            shutil.rmtree(accounts.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
