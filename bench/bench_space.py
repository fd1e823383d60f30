"""Latency of the Space, per model: predictions and explanations, one request at a time and under 20
concurrent clients.

    python bench/bench_space.py                                           # trains quick runs first
    python bench/bench_space.py --text_run outputs/text --image_run outputs/image

Starts ``space/app.py`` on loopback as a user would and calls, over plain HTTP, each model's own
API endpoint (POST /gradio_api/run/<text|image>_<model>; these skip the queue), the page's
Classify endpoint (every model at once, through the queue: POST /gradio_api/call/predict_<kind>,
then its event stream) and each model's explanation endpoint (explain_<kind>_<model>, queued or not
as the app declares it). Each figure is what a client waits for. Beside a prediction's, the model's own
time as the app measures it around the pipeline call (the latency the Try-it tab shows). Inputs: a
tweet-length text, and a 224x224 photo (scikit-learn's china.jpg). Without runs given, quick ones are
trained (every text model on 400 BBC articles, one epoch; the image models at 224 px on 300 digits):
latency does not depend on how well a model was trained. Prints each figure next to its target (the
explanations: p50 <= 300 ms for the scratch and GloVe models, 1.5 s for the transformer and the
EfficientNets); writes bench/results/space.json; exits non-zero when a target is missed or a request fails.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "space")]
from catalog import api_name  # noqa: E402  (the app's own endpoint names)

TWEET = "Forest fire near La Ronge Sask. Canada - evacuation ordered for residents, roads closed #wildfire"
SINGLE, CLIENTS, PER_CLIENT, WARMUP = 60, 20, 5, 5
# p50 targets of a single request (ms), by model name; image models get theirs with "image:".
TARGETS = {"scratch-simple": 30, "scratch-complex": 30, "glove-lstm": 30, "transformer": 80, "image:pretrained": 150}
# The same for one explanation (Why?): the scratch and GloVe models, then the transformer and the EfficientNets.
EXPLAIN_TARGETS = {
    "scratch-simple": 300, "scratch-complex": 300, "glove-lstm": 300, "transformer": 1500,
    "image:scratch-simple": 300, "image:scratch-complex": 300,
    "image:pretrained": 1500, "image:pretrained-frozen": 1500,
}  # fmt: skip
# An explanation costs up to a second: fewer requests of it, so that the bench stays a few minutes long.
EXPLAIN_SINGLE, EXPLAIN_PER_CLIENT, EXPLAIN_WARMUP = 20, 2, 2
QUICK_RUNS = {
    "text": ("train_text.py", ["--max_train_samples", "400", "--max_eval_samples", "100", "--num_train_epochs", "1"]),
    "image": (
        "train_image.py",
        [
            "--models",
            "scratch-simple,pretrained",
            "--image_size",
            "224",
            "--max_train_samples",
            "300",
            "--max_eval_samples",
            "100",
            "--num_train_epochs",
            "1",
        ],
    ),
}


def quick_run(kind: str, output_root: Path) -> Path:
    output = output_root / f"space-{kind}"
    if (output / "results.json").is_file():
        return output
    script, args = QUICK_RUNS[kind]
    command = [
        str(Path(sys.executable).parent / "accelerate"),
        "launch",
        "-q",
        str(ROOT / "training" / script),
        *args,
        "--output_dir",
        str(output),
        "--overwrite_output_dir",
    ]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return output


class App:
    """space/app.py in a subprocess, and calls to its endpoints over HTTP."""

    def __init__(self, runs: list[Path], port: int):
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, str(ROOT / "space" / "app.py"), "--results", *map(str, runs), "--port", str(port)]
        self.log = open(ROOT / "outputs" / "bench" / "space-app.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"space/app.py exited with {self.process.returncode}; see {self.log.name}")
            try:
                config = httpx.get(f"{self.url}/config", timeout=2).json()
                # Which endpoints wait in the queue (called through /call, else /run), as the app declares them.
                self.queued = {d["api_name"]: d["queue"] is not False for d in config["dependencies"]}
                return
            except httpx.HTTPError:
                time.sleep(1)
        raise SystemExit(f"space/app.py did not answer within 300 s; see {self.log.name}")

    def upload(self, path: Path) -> dict:
        with path.open("rb") as handle:
            response = httpx.post(f"{self.url}/gradio_api/upload", files={"files": (path.name, handle)})
        return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}

    def call(self, client: httpx.Client, endpoint: str, value) -> tuple[float, list]:
        """One request as a client sees it: (milliseconds, output data)."""
        start = time.perf_counter()
        event = client.post(f"{self.url}/gradio_api/call/{endpoint}", json={"data": [value]}).json()["event_id"]
        stream = client.get(f"{self.url}/gradio_api/call/{endpoint}/{event}", timeout=120).text
        elapsed = (time.perf_counter() - start) * 1000
        if "event: complete" not in stream:
            raise RuntimeError(f"{endpoint} failed: {stream[-500:]}")
        return elapsed, json.loads(stream.split("event: complete\ndata: ", 1)[1].splitlines()[0])

    def run(self, client: httpx.Client, endpoint: str, value) -> tuple[float, list]:
        """One request to an endpoint that skips the queue (the per-model ones): one round trip."""
        start = time.perf_counter()
        response = client.post(f"{self.url}/gradio_api/run/{endpoint}", json={"data": [value]}, timeout=120)
        elapsed = (time.perf_counter() - start) * 1000
        response.raise_for_status()
        return elapsed, response.json()["data"]

    def request(self, client: httpx.Client, endpoint: str, value) -> tuple[float, list]:
        """One request, through the queue or not as the endpoint is declared."""
        return (self.call if self.queued[endpoint] else self.run)(client, endpoint, value)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "n": len(ordered),
    }


def concurrently(call, endpoint: str, value, per_client: int = PER_CLIENT) -> dict:
    """CLIENTS clients at once, each on its own connection, ``per_client`` requests each; failures counted."""

    def session(_: int) -> tuple[list[float], list[str]]:
        times, errors = [], []
        with httpx.Client() as client:
            for _ in range(per_client):
                try:
                    times.append(call(client, endpoint, value)[0])
                except (httpx.HTTPError, RuntimeError) as error:
                    errors.append(f"{type(error).__name__}: {str(error)[:200]}")
        return times, errors

    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        sessions = list(pool.map(session, range(CLIENTS)))
    times = [t for result, _ in sessions for t in result]
    errors = [e for _, failed in sessions for e in failed]
    return {
        "concurrent_ms": percentiles(times) if times else {"p50": None, "p95": None, "n": 0},
        "concurrent_ok": f"{len(times)}/{CLIENTS * per_client}",
        "concurrent_throughput_per_s": round(len(times) / (time.perf_counter() - start), 1),
        **({"concurrent_errors": errors[:5]} if errors else {}),
    }


def measure(app: App, kind: str, models: list[str], value) -> dict[str, dict]:
    """Per model: its own time in the app, one request at a time to its endpoint, and 20 clients at
    once. Then the page's Classify endpoint (every model, queued) alone and under 20 clients."""
    figures: dict[str, dict] = {}
    page = f"predict_{kind}"
    with httpx.Client() as client:
        own: dict[str, list[float]] = {m: [] for m in models}
        page_times = []
        for _ in range(WARMUP + SINGLE // 2):
            elapsed, data = app.call(client, page, value)
            page_times.append(elapsed)
            for model, latency in zip(models, data[2:-1:2], strict=True):
                own[model].append(float(latency.split()[0]))
        for model in models:
            endpoint = api_name(kind, model)
            for _ in range(WARMUP):
                app.run(client, endpoint, value)
            single = [app.run(client, endpoint, value)[0] for _ in range(SINGLE)]
            figures[model] = {"model_ms": percentiles(own[model][WARMUP:]), "request_ms": percentiles(single)}
    for model in models:
        figures[model].update(concurrently(app.run, api_name(kind, model), value))
    figures["all models (Classify, queued)"] = {
        "model_ms": {"p50": None, "p95": None},
        "request_ms": percentiles(page_times[WARMUP:]),
        **concurrently(app.call, page, value),
    }
    return figures


def measure_explanations(app: App, kind: str, models: list[str], value) -> dict[str, dict]:
    """Per model: one explanation at a time from its explain_ endpoint, and 20 clients at once."""
    figures: dict[str, dict] = {}
    with httpx.Client() as client:
        for model in models:
            endpoint = api_name(kind, model, prefix="explain")
            for _ in range(EXPLAIN_WARMUP):
                app.request(client, endpoint, value)
            single = [app.request(client, endpoint, value)[0] for _ in range(EXPLAIN_SINGLE)]
            figures[model] = {"model_ms": {"p50": None, "p95": None}, "request_ms": percentiles(single)}
    for model in models:
        figures[model].update(
            concurrently(app.request, api_name(kind, model, prefix="explain"), value, EXPLAIN_PER_CLIENT)
        )
    return figures


def report(title: str, figures: dict[str, dict[str, dict]], targets: dict[str, float]) -> bool:
    """Print one table of figures against their p50 targets; whether every target is met and no request failed."""
    ok = True
    print(f"\n== {title}")
    print(f"  {'model':<36} {'own p50/p95':>12} {'request p50/p95':>16} {'20 clients p50/p95':>19}  target")
    for kind, models in figures.items():
        for model, f in models.items():
            target = targets.get(model if kind == "text" else f"image:{model}")
            passed = None if target is None else f["request_ms"]["p50"] <= target
            done, sent = f["concurrent_ok"].split("/")
            ok &= passed is not False and done == sent
            mark = "" if passed is None else ("PASS" if passed else "FAIL")
            print(
                f"  {kind + ' ' + model:<36} {f['model_ms']['p50'] or '-'!s:>5}/{f['model_ms']['p95'] or '-'!s:<6} "
                f"{f['request_ms']['p50']:>8}/{f['request_ms']['p95']:<7} "
                f"{f['concurrent_ms']['p50']!s:>9}/{f['concurrent_ms']['p95']!s:<9} "
                f"{'<= ' + str(target) if target else '':<7} {mark}  ({f['concurrent_ok']} ok under load)"
            )
            for error in f.get("concurrent_errors", []):
                print(f"      {error}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text_run", type=Path, help="a train_text.py output directory (default: a quick run)")
    parser.add_argument("--image_run", type=Path, help="a train_image.py output directory (default: a quick run)")
    parser.add_argument("--output_root", type=Path, default=ROOT / "outputs" / "bench")
    parser.add_argument("--port", type=int, default=7890)
    args = parser.parse_args()
    args.output_root.mkdir(parents=True, exist_ok=True)
    text_run = args.text_run or quick_run("text", args.output_root)
    image_run = args.image_run or quick_run("image", args.output_root)

    from PIL import Image
    from sklearn.datasets import load_sample_image

    photo = args.output_root / "china-224.jpg"
    Image.fromarray(load_sample_image("china.jpg")).resize((224, 224)).save(photo)
    app = App([text_run, image_run], args.port)
    try:
        names = {
            kind: [m["name"] for m in json.loads((run / "results.json").read_text())["models"]]
            for kind, run in (("text", text_run), ("image", image_run))
        }
        image = app.upload(photo)
        figures = {
            "text": measure(app, "text", names["text"], TWEET),
            "image": measure(app, "image", names["image"], image),
        }
        explanations = {
            "text": measure_explanations(app, "text", names["text"], TWEET),
            "image": measure_explanations(app, "image", names["image"], image),
        }
    finally:
        app.close()

    cores = f"{os.cpu_count()} CPU cores"
    ok = report(
        f"Space latency (ms), {cores}; single: {SINGLE} sequential requests; concurrent: {CLIENTS} clients x "
        f"{PER_CLIENT} requests",
        figures,
        TARGETS,
    )
    ok &= report(
        f"Explanations (Why?, ms), {cores}; single: {EXPLAIN_SINGLE} sequential requests; concurrent: {CLIENTS} "
        f"clients x {EXPLAIN_PER_CLIENT} requests",
        explanations,
        EXPLAIN_TARGETS,
    )
    result = {
        "ok": ok,
        "text": TWEET,
        "image": "china.jpg at 224x224",
        "runs": [str(text_run), str(image_run)],
        "figures": figures,
        "explanations": explanations,
    }
    out = ROOT / "bench" / "results" / "space.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nWritten {out.relative_to(ROOT)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
