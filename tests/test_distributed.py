"""Training across processes: Trainer's defaults per machine, the scratch tokenizer built the same in every
process, both scripts under ``torchrun --nproc_per_node 2`` on the CPU (gloo) scored exactly like one process,
same-seed runs that reproduce, and parallel sweep workers of which exactly one writes the results."""

import csv
import json
import math
import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_in_fresh_process, run_script
from training.core.arguments import RunArguments, parse_arguments, trainer_defaults
from training.reporting.insights import NOISE_Z, standard_error

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]


def test_wordpiece_vocabulary_is_the_same_in_every_process():
    """The tokenizers trainer numbers continuation tokens in hash-map order, which differs per process:
    before the fix, these texts gave a different vocabulary in each of six processes."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from tests.conftest import sentiment_data; "
        "from training.text.tokenizers import train_wordpiece_tokenizer; "
        "texts = [row['review'] for row in sentiment_data()]; "
        "print(train_wordpiece_tokenizer(texts, 200, 16).backend_tokenizer.to_str())"
    )
    vocabularies = {
        subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
        for _ in range(4)
    }
    assert len(vocabularies) == 1
    saved = json.loads(vocabularies.pop())
    # Plain vocabulary again: only [PAD] and [UNK] are special (a text's "##e" is not one token).
    assert [token["content"] for token in saved["added_tokens"]] == ["[PAD]", "[UNK]"]
    assert "##e" in saved["model"]["vocab"] and len(saved["model"]["vocab"]) <= 200


def test_trainer_defaults_follow_the_machine(monkeypatch):
    import torch
    from transformers import TrainingArguments

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cpu = trainer_defaults({"train_sampling_strategy": "group_by_length"})
    assert not {"bf16", "fp16", "use_cpu", "dataloader_num_workers", "train_sampling_strategy"} & set(cpu)
    assert cpu["average_tokens_across_devices"] is False  # else Trainer scales our mean losses by the process count

    monkeypatch.setenv("WORLD_SIZE", "2")  # torchrun on a machine without GPUs: DDP on the CPU
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    assert trainer_defaults()["use_cpu"] is True

    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(12)))
    gpu = trainer_defaults({"train_sampling_strategy": "group_by_length"})
    assert gpu["bf16"] and "use_cpu" not in gpu and gpu["dataloader_num_workers"] == 6  # 12 cores, 2 processes
    assert gpu["dataloader_pin_memory"] and gpu["dataloader_persistent_workers"]
    assert gpu["train_sampling_strategy"] == "group_by_length"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert trainer_defaults()["fp16"] and "bf16" not in trainer_defaults()

    # Each default gives way to its flag.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # TrainingArguments would set up the GPU
    monkeypatch.setattr("training.core.arguments.trainer_defaults", lambda gpu_defaults=None: {**gpu, "bf16": False})
    argv = ["--dataloader_num_workers", "0", "--dataloader_persistent_workers", "false", "--train_sampling_strategy",
            "random"]  # fmt: skip
    (_, training), _ = parse_arguments((RunArguments, TrainingArguments), "outputs/x", argv)
    assert training.dataloader_num_workers == 0 and training.train_sampling_strategy == "random"


def _claim(storage_url: str, barrier, results) -> None:
    from training.experiments.sweep import claim_results, create_storage

    storage = create_storage(storage_url)
    barrier.wait()  # every process asks at the same moment
    results.put(claim_results(storage, "study", 4)[0])


def test_exactly_one_worker_claims_the_results(tmp_path):
    """The race of parallel sweep workers that finish together, forced: four processes ask for the claim at
    the same moment, three times over; each time exactly one gets it."""
    import optuna

    from training.experiments.sweep import claim_results, create_storage

    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(storage=url, study_name="study")
    context = multiprocessing.get_context("fork")  # forked: the workers start at once, already imported
    for round_ in range(3):
        barrier, results = context.Barrier(4), context.Queue()
        workers = [context.Process(target=_claim, args=(url, barrier, results)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert [worker.exitcode for worker in workers] == [0] * 4
        assert sorted(results.get(timeout=5) for _ in workers) == [False, False, False, True], round_
        storage = create_storage(url)
        # The holder (a forked process, now gone, on this machine) died before writing: taken over.
        claimed, record = claim_results(storage, "study", 4)
        assert claimed and record["pid"] == os.getpid()
        storage.set_study_user_attr(record["study_id"], "written", True)
        claimed, held = claim_results(storage, "study", 4)
        assert not claimed and held["written"] and held["pid"] == os.getpid()
        assert claim_results(storage, "study", 4, take_over=True)[0]  # --rewrite_results
        assert claim_results(storage, "study", 5)[0]  # more trials: a new result to write
        optuna.delete_study(study_name="study:results-at-4-trials", storage=url)
        optuna.delete_study(study_name="study:results-at-5-trials", storage=url)


def test_a_later_result_waits_for_an_earlier_one_being_written(tmp_path):
    """A worker that started a trial just as another saw none running writes the results again when its
    trial ends, after the first writer: never both into best/ at once."""
    import threading

    import optuna

    from training.experiments.sweep import claim_results, create_storage, wait_for_earlier_writers

    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(storage=url, study_name="study")
    storage = create_storage(url)
    claimed, record = claim_results(storage, "study", 4)  # this process, alive: writing
    assert claimed and claim_results(storage, "study", 5)[0]
    wait_for_earlier_writers(storage, "study", 4, poll_s=0.01)  # nothing earlier than itself: no wait
    written = threading.Event()

    def finish_writing() -> None:
        time.sleep(0.5)
        create_storage(url).set_study_user_attr(record["study_id"], "written", True)
        written.set()

    writer = threading.Thread(target=finish_writing)
    writer.start()
    wait_for_earlier_writers(storage, "study", 5, poll_s=0.05)
    assert written.is_set()
    writer.join()


# --- Slow: real runs under torchrun ------------------------------------------------------------------------


def _run(command: list[str], cwd, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def _rows(path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def check_distributed_run(tmp_path, script: str, task: str, models: list[str], data: list[str], batch: int) -> None:
    """``script`` under torchrun with 2 processes and per-device batch ``batch`` against one process with
    twice that batch (the same effective batch): one complete output directory written once, every split
    scored on exactly its examples in their order, metrics within the test set's noise, the models reloaded
    by pipeline in a fresh process."""
    common = [*data, "--models", ",".join(models), "--num_train_epochs", "1", "--latency_samples", "2",
              "--per_device_eval_batch_size", "8"]  # fmt: skip  # 8 per process: the last batches need padding
    ddp, single = tmp_path / "ddp", tmp_path / "single"
    started = time.time()
    result = _run([*TORCHRUN, str(ROOT / "training" / script), *common, "--output_dir", str(ddp),
                   "--per_device_train_batch_size", str(batch)], tmp_path)  # fmt: skip
    assert result.stdout.count("# Model comparison") == 1  # one process prints and writes
    assert "parallel_mode != ParallelMode.DISTRIBUTED" not in result.stderr
    run_script(script, [*common, "--output_dir", str(single), "--per_device_train_batch_size", str(2 * batch)],
               tmp_path)  # fmt: skip
    ddp_results = json.loads((ddp / "results.json").read_text())
    single_results = json.loads((single / "results.json").read_text())
    assert [m["name"] for m in ddp_results["models"]] == models
    assert not list(ddp.rglob("checkpoints")) and not list(ddp.rglob("repeats"))
    for ours, theirs in zip(ddp_results["models"], single_results["models"], strict=True):
        name = ours["name"]
        metrics = json.loads((ddp / name / "metrics.json").read_text())
        assert metrics["world_size"] == 2 and "2 processes (DDP)" in metrics["training_device"]
        assert json.loads((single / name / "metrics.json").read_text())["world_size"] == 1
        for split in ("train", "validation", "test"):
            assert ours[split]["num_examples"] == theirs[split]["num_examples"], (name, split)
        rows, expected = _rows(ddp / name / "predictions.csv"), _rows(single / name / "predictions.csv")
        assert len(rows) == ours["test"]["num_examples"]
        assert [(r["input"], r["label"]) for r in rows] == [(r["input"], r["label"]) for r in expected]
        # The mean loss over both processes, not their sum: near ln(K) after one epoch of a weak start.
        assert metrics["history"][0]["train_loss"] < 1.5 * math.log(len(ddp_results["label_names"]))
        n, metric = ours["test"]["num_examples"], ddp_results["primary_metric"]
        a, b = ours["test"][metric], theirs["test"][metric]
        noise = NOISE_Z * math.hypot(standard_error(a, n), standard_error(b, n))
        assert abs(a - b) <= max(noise, 2 / n), (name, a, b, noise)
    assert time.time() - started < 900
    code = (
        "import sys, json; from transformers import pipeline; "
        "print(json.dumps([pipeline(sys.argv[1], model=path, trust_remote_code=True) is not None "
        "for path in sys.argv[2:]]))"
    )
    loaded = run_in_fresh_process(code, [task, *(str(ddp / name) for name in models)], tmp_path)
    assert json.loads(loaded) == [True] * len(models)


@pytest.mark.slow
def test_text_lineup_under_torchrun(tmp_path):
    data = ["--max_train_samples", "160", "--max_eval_samples", "51"]  # BBC News: 51 examples, odd on purpose
    check_distributed_run(
        tmp_path, "train_text.py", "text-classification", ["scratch-simple", "scratch-complex", "glove-lstm",
        "transformer"], [*data, "--max_seq_length", "64"], batch=8,
    )  # fmt: skip


@pytest.mark.slow
def test_repeated_measurements_are_refused_under_torchrun(tmp_path):
    out = tmp_path / "cv"
    command = [*TORCHRUN, str(ROOT / "training" / "train_text.py"), "--cv_folds", "2", "--output_dir", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode != 0 and "--cv_folds and --seeds run in a single process" in result.stderr
    assert not out.exists()  # refused before anything is written


@pytest.mark.slow
def test_image_lineup_under_torchrun(tmp_path):
    data = ["--max_train_samples", "160", "--max_eval_samples", "51"]  # the digits
    check_distributed_run(
        tmp_path, "train_image.py", "image-classification",
        ["scratch-simple", "scratch-complex", "pretrained-frozen", "pretrained"], data, batch=16,
    )  # fmt: skip


@pytest.mark.slow
def test_same_seed_runs_of_the_scratch_models_are_identical(tmp_path):
    """Each run is a fresh process (another hash seed for the tokenizer trainer), as two users' runs are."""
    args = ["--models", "scratch-simple,scratch-complex", "--max_train_samples", "300", "--max_eval_samples", "60",
            "--num_train_epochs", "2", "--max_seq_length", "128", "--latency_samples", "2"]  # fmt: skip
    for run in ("first", "second"):
        run_script("train_text.py", [*args, "--output_dir", str(tmp_path / run)], tmp_path)
    for name in ("scratch-simple", "scratch-complex"):
        first, second = (tmp_path / run / name for run in ("first", "second"))
        assert (first / "tokenizer.json").read_bytes() == (second / "tokenizer.json").read_bytes()
        assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
        scores = [json.loads((run / "metrics.json").read_text()) for run in (first, second)]
        assert scores[0]["test"] == scores[1]["test"] and scores[0]["validation"] == scores[1]["validation"]


@pytest.mark.slow
def test_workers_finishing_together_write_the_results_once(tmp_path):
    """All trials finished and the results not yet claimed (deleted here): two workers started together
    both reach the results step with nothing else to do. Exactly one writes them; the other says so."""
    import optuna

    from tests.test_sweep import tiny_sweep

    out = tmp_path / "sweep"
    own, training = tiny_sweep(tmp_path, out, epochs=1)
    command = [sys.executable, str(ROOT / "training" / "sweep.py"), *own, "--n_trials", "2", "--"]
    _run([*command, *training, "--max_train_samples", "40"], tmp_path)
    for trial in range(3):
        optuna.delete_study(study_name="text-scratch-simple:results-at-2-trials", storage=f"sqlite:///{out}/study.db")
        (out / "sweep.json").unlink()
        workers = [
            subprocess.Popen([*command, *training, "--max_train_samples", "40"], cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]  # fmt: skip
        outputs = [worker.communicate(timeout=600) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], [err[-2000:] for _, err in outputs]
        said = sorted("is writing its results" in out_ or "wrote its results" in out_ for out_, _ in outputs)
        assert said == [False, True], trial  # one wrote, the other stood aside and said who writes
        assert json.loads((out / "sweep.json").read_text())["finished_trials"] == 2
        assert (out / "best" / "results.json").is_file()
