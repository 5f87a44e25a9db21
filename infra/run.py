"""`make run`: the Firestore emulator, the sandbox broker and the gateway, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from infra.stack import ROOT, Service, answers, spawn, start_emulator, start_sandbox

DEFAULTS = {
    "ALPACA_BASE_URL": "http://127.0.0.1:8002",
    "ALPACA_DATA_URL": "http://127.0.0.1:8002",
    "ALPACA_API_KEY": "sandbox-key",
    "ALPACA_SECRET_KEY": "sandbox-secret",
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8085",
    "GOOGLE_CLOUD_PROJECT": "execution-engine-local",
    "GATEWAY_DEV_TOKEN": "dev-token",
}
GATEWAY_PORT = int(os.environ.get("GATEWAY_PORT", "8001"))


def start_gateway(env: dict[str, str], port: int, log_dir: Path) -> Service:
    url = f"http://127.0.0.1:{port}/api/alpaca"
    args = [sys.executable, "-m", "infra.gateway_server", "--port", str(port)]
    ready = answers(f"{url}/openapi.json", lambda r: r.status_code == 200)
    return spawn("gateway", args, url, ready, env=env, log_dir=log_dir)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    log_dir = ROOT / ".run"
    log_dir.mkdir(exist_ok=True)
    env = {name: os.environ.get(name) or value for name, value in DEFAULTS.items()}
    services: list[Service] = []
    try:
        if "FIRESTORE_EMULATOR_HOST" not in os.environ:
            port = int(env["FIRESTORE_EMULATOR_HOST"].rsplit(":", 1)[1])
            services.append(start_emulator(port, log_dir=log_dir))
        if "ALPACA_BASE_URL" not in os.environ:
            services.append(start_sandbox(8002, log_dir=log_dir))
        services.append(start_gateway(env, GATEWAY_PORT, log_dir))
        print(f"firestore emulator  {env['FIRESTORE_EMULATOR_HOST']}")
        print(f"sandbox broker      {env['ALPACA_BASE_URL']}  (keys sandbox-key / sandbox-secret)")
        print(f"gateway             {services[-1].url}  (Authorization: Bearer {env['GATEWAY_DEV_TOKEN']})")
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


if __name__ == "__main__":
    sys.exit(main())
