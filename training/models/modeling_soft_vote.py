"""A soft-vote ensemble as a checkpoint that ``pipeline`` loads: the weighted mean of its members' class
probabilities.

Transformers has no ensemble model, and the members need their own tokenizers or image processors, so the
vote happens in a pipeline (``SoftVotePipeline``, registered in the config's ``custom_pipelines`` for the
run's task) that runs each member's own pipeline. The checkpoint holds the members' names and weights;
each member loads from the folder beside the ensemble's (``../<member>``), else from the Hub repo
published beside it (``<namespace>/<prefix>-<member>`` for an ensemble at ``<namespace>/<prefix>-ensemble``),
or from the ``source`` the config names. Self-contained on purpose: this file ships with the checkpoint.
"""

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import Pipeline, PretrainedConfig, PreTrainedModel, pipeline

ENSEMBLE_NAME = "ensemble"


class SoftVoteConfig(PretrainedConfig):
    model_type = "soft-vote-ensemble"

    def __init__(self, members: list[dict[str, Any]] | None = None, task: str = "text-classification", **kwargs):
        self.members = list(members or [])  # [{"name": ..., "weight": ..., "source": optional path or repo id}]
        self.task = task
        super().__init__(**kwargs)


class SoftVoteEnsemble(PreTrainedModel):
    """The vote's weights; the members are run by ``SoftVotePipeline``."""

    config_class = SoftVoteConfig
    base_model_prefix = "ensemble"

    def __init__(self, config: SoftVoteConfig):
        super().__init__(config)
        weights = torch.tensor([float(m["weight"]) for m in config.members] or [1.0])
        self.vote_weights = nn.Parameter(weights, requires_grad=False)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        pass  # the weights come from the config or the checkpoint

    def forward(self, member_probabilities: torch.Tensor) -> torch.Tensor:
        """(members, batch, classes) probabilities -> the weighted mean, (batch, classes)."""
        return torch.einsum("m,mbc->bc", self.vote_weights, member_probabilities)


def member_source(ensemble: str, member: dict[str, Any]) -> str:
    """Where a member loads from: its ``source``, the folder beside a local ensemble, or the Hub repo beside it."""
    if member.get("source"):
        return member["source"]
    local = Path(ensemble)
    if local.is_dir():
        return str(local.parent / member["name"])
    suffix = "-" + ENSEMBLE_NAME
    if not ensemble.endswith(suffix):
        raise ValueError(f"cannot find the members of {ensemble!r}: name them with a 'source' in its config.json")
    return ensemble[: -len(suffix)] + "-" + member["name"]


class SoftVotePipeline(Pipeline):
    """``pipeline(task, model=<ensemble>, trust_remote_code=True)``: answers as the task's own pipeline does
    (a list of ``{"label", "score"}``, best first; ``top_k=None`` for every class)."""

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = False

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        config = self.model.config
        self.members = [
            pipeline(
                config.task, model=member_source(self.model.name_or_path, m), trust_remote_code=True, device=self.device
            )  # fmt: skip
            for m in config.members
        ]
        self.label_names = [config.id2label[i] for i in range(len(config.id2label))]

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """One input (a text, an image, a series) or a list of them. The vote runs on the whole list at once, so
        ``batch_size`` (and any other option of the task's pipeline) batches each member's own pipeline."""
        _, forward_params, postprocess_params = self._sanitize_parameters(**kwargs)
        single = not self._is_batch(inputs)
        probabilities = self.vote([inputs] if single else list(inputs), **forward_params)
        answers = [self.postprocess({"probabilities": p}, **postprocess_params) for p in probabilities]
        if not single:
            return answers
        # As the text-classification pipeline: one text without top_k gives [best], several give [best, ...].
        return [answers[0]] if postprocess_params["best_only"] else answers[0]

    def _is_batch(self, inputs: Any) -> bool:
        # A series is itself a list of numbers: its members' feature extractor tells one from several.
        series = getattr(self.members[0], "feature_extractor", None) if self.members else None
        if series is not None and hasattr(series, "is_batch"):
            return bool(series.is_batch(inputs))
        return isinstance(inputs, list | tuple)

    def _sanitize_parameters(self, top_k: int | None = -1, **member_kwargs: Any):
        # The task's own default: the best class for text (as a dict), the five best for images.
        best_only = top_k == -1 and self.model.config.task == "text-classification"
        if top_k == -1:
            top_k = 1 if best_only else 5
        return {}, {"member_kwargs": member_kwargs}, {"top_k": top_k, "best_only": best_only}

    def vote(self, inputs: list[Any], member_kwargs: dict[str, Any] | None = None) -> torch.Tensor:
        """The weighted mean of the members' class probabilities of each of ``inputs``: (inputs, classes)."""
        votes = []
        for member in self.members:
            # Every class: the image pipeline's top_k=None means its default of 5.
            answers = member(inputs, top_k=len(self.label_names), **(member_kwargs or {}))
            scores = [{s["label"]: s["score"] for s in answer} for answer in answers]
            votes.append([[row[name] for name in self.label_names] for row in scores])
        return self.model(torch.tensor(votes, dtype=self.model.vote_weights.dtype))

    def preprocess(self, inputs: Any) -> dict[str, Any]:
        return {"inputs": inputs}

    def _forward(self, model_inputs: dict[str, Any], member_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"probabilities": self.vote([model_inputs["inputs"]], member_kwargs)[0]}

    def postprocess(self, model_outputs: dict[str, Any], top_k: int | None = 1, best_only: bool = False) -> Any:
        probabilities = model_outputs["probabilities"].tolist()
        ranked = sorted(zip(self.label_names, probabilities, strict=True), key=lambda pair: -pair[1])
        answer = [{"label": label, "score": score} for label, score in ranked[:top_k]]
        return answer[0] if best_only else answer
