"""Why a model predicted what it did: per-token and per-pixel attributions with Captum, one implementation for
every model (the scratch ones, GloVe, any Hub BERT-like or image classifier, and models loaded back by repo id).

- Text: integrated gradients on the input embeddings (``LayerIntegratedGradients``), from a baseline where every
  token but the special ones is the padding token, to the probability of the explained class.
- Images: Grad-CAM (``LayerGradCam``) on the last convolution the network runs, upsampled to the input; a network
  whose only convolution is its patch embedding (ViT) gets integrated gradients on the pixels from a zero
  (mean-colour, after normalisation) baseline instead. Which one is found from the model, not from its name.
- Time series: occlusion (``Occlusion``): windows of the series, one after another, replaced by each channel's
  mean, and the drop in the explained class's probability is each step's score (a saliency curve over time).
  It needs no gradient, so it explains every model alike, MiniRocket's ridge included.

Everything is found from the model and its processor, so ``explain`` takes what ``pipeline`` holds
(``classifier.model`` and ``classifier.tokenizer`` or ``classifier.image_processor``). Captum attaches hooks to
the model while it runs: callers that share a model between threads serialise its use (the Space locks it).
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from transformers import PreTrainedTokenizerBase

from training.core.plots import series_picture

# Integration steps: 32 keeps the completeness gap of integrated gradients under a few percent of the
# explained probability on our models, at 32 forward/backward passes (batched) per explanation.
TEXT_STEPS = 32
PIXEL_STEPS = 32
INTERNAL_BATCH = 16  # steps per forward pass: bounds memory on long texts and big images
DELETION_FRACTION = 0.1  # the share of tokens or pixels the deletion test removes


@dataclass
class Explanation:
    """One prediction explained: the class, its probability, and an attribution score per token (text) or per
    pixel of the model's input (images, ``H x W``). Positive scores pushed towards the explained class."""

    target: int
    label: str
    probability: float
    method: str
    scores: np.ndarray
    tokens: list[str] | None = None  # text: the tokens, special ones included
    spans: list[tuple[int, int]] | None = None  # text: each token's characters in the input ((0, 0): special)
    special: np.ndarray | None = None  # text: True for special tokens ([CLS], padding), never highlighted
    model_inputs: dict[str, torch.Tensor] | None = None  # what the model saw (one example): for deletion tests


def is_text(processor: Any) -> bool:
    """Whether ``processor`` is a tokenizer (text model) rather than an image processor."""
    return isinstance(processor, PreTrainedTokenizerBase)


def is_series(processor: Any) -> bool:
    """Whether ``processor`` is a time-series feature extractor (``models/processing_timeseries.py``, also when
    loaded from a checkpoint's own copy of that file)."""
    return list(getattr(processor, "model_input_names", [])) == ["values", "attention_mask"]


def explain(model: nn.Module, processor: Any, example: Any, target: int | None = None) -> Explanation:
    """Explain ``model``'s prediction for one raw ``example`` (a string, or an image: PIL, path or array), towards
    class ``target`` (default: the predicted one)."""
    if processor is None:
        raise ValueError(
            f"{type(model).__name__} has no processor of its own to explain through (an ensemble: see its members)."
        )
    if is_text(processor):
        return explain_text(model, processor, example, target)
    if is_series(processor):
        return explain_series(model, processor, example, target)
    return explain_image(model, processor, example, target)


def _label(model: nn.Module, index: int) -> str:
    return str(model.config.id2label.get(index, index))


def _probabilities(model: nn.Module, **inputs: torch.Tensor) -> torch.Tensor:
    return torch.softmax(model(**inputs).logits.float(), dim=-1)


def find_input_embeddings(model: nn.Module) -> nn.Module:
    """The token embedding table: ``get_input_embeddings()`` where the model defines it, else the embedding
    whose size is the vocabulary's (checkpoints whose shipped code predates ``get_input_embeddings``)."""
    try:
        layer = model.get_input_embeddings()
    except (AttributeError, NotImplementedError):
        layer = None
    if isinstance(layer, nn.Module):
        return layer
    vocab = getattr(model.config, "vocab_size", None)
    embeddings = [m for m in model.modules() if isinstance(m, nn.Embedding)]
    for module in embeddings:
        if module.num_embeddings == vocab:
            return module
    if embeddings:
        return embeddings[0]
    raise ValueError(f"{type(model).__name__} has no token embedding layer to attribute to")


def explain_text(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    text: str,
    target: int | None = None,
    n_steps: int = TEXT_STEPS,
) -> Explanation:
    """Integrated gradients of the explained class's probability w.r.t. each token's embedding, summed over the
    embedding: one score per token. Texts are truncated as the pipeline truncates them (``truncation=True``)."""
    from captum.attr import LayerIntegratedGradients

    device = next(model.parameters()).device
    encoded = tokenizer(
        text, truncation=True, return_tensors="pt", return_offsets_mapping=tokenizer.is_fast,
        return_special_tokens_mask=True,
    )  # fmt: skip
    special = encoded.pop("special_tokens_mask")[0].bool()
    offsets = encoded.pop("offset_mapping", None)
    if offsets is not None:  # an unknown word is a special token but stands for text: it stays in
        special &= (offsets[0] == 0).all(dim=-1)
    input_ids = encoded["input_ids"].to(device)
    attention_mask = encoded.get("attention_mask", torch.ones_like(input_ids)).to(device)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    baseline = torch.where(special.to(device), input_ids, torch.full_like(input_ids, pad))

    def forward(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return _probabilities(model, input_ids=ids, attention_mask=mask)

    # cuDNN's RNN kernels refuse a backward pass in eval mode; the attribution runs without them.
    with torch.backends.cudnn.flags(enabled=False):
        with torch.no_grad():
            probabilities = forward(input_ids, attention_mask)[0]
        target = int(probabilities.argmax()) if target is None else int(target)
        attributions = LayerIntegratedGradients(forward, find_input_embeddings(model)).attribute(
            input_ids, baselines=baseline, target=target, additional_forward_args=(attention_mask,),
            n_steps=n_steps, internal_batch_size=INTERNAL_BATCH,
        )  # fmt: skip
    scores = attributions.sum(dim=-1)[0].detach().float().cpu().numpy()
    scores[special.numpy()] = 0.0
    ids = input_ids[0].tolist()
    spans = [tuple(map(int, pair)) for pair in offsets[0].tolist()] if offsets is not None else None
    return Explanation(
        target=target, label=_label(model, target), probability=float(probabilities[target]),
        method=f"integrated gradients on the token embeddings ({n_steps} steps, padding baseline)", scores=scores,
        tokens=tokenizer.convert_ids_to_tokens(ids), spans=spans, special=special.numpy(),
        model_inputs={"input_ids": input_ids, "attention_mask": attention_mask},
    )  # fmt: skip


def words(explanation: Explanation, text: str) -> list[tuple[str, float | None]]:
    """The text cut into pieces with a score each, for ``gr.HighlightedText`` and the top-losses Markdown: word
    pieces that touch are merged into one word (their scores summed), the text between tokens (spaces, the
    truncated tail) has score None, and scores are scaled to [-1, 1] by the largest magnitude."""
    if explanation.spans is None:  # a slow tokenizer gives no offsets: the tokens themselves, spaced
        pieces = [(t, float(s)) for t, s, sp in zip(explanation.tokens, explanation.scores, explanation.special,
                                                    strict=True) if not sp]  # fmt: skip
        return _scaled([p for piece in pieces for p in (piece, (" ", None))][:-1])
    merged: list[list[Any]] = []  # [start, end, score]
    for (start, end), score, special in zip(explanation.spans, explanation.scores, explanation.special, strict=True):
        if special or end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1], merged[-1][2] = max(end, merged[-1][1]), merged[-1][2] + float(score)
        else:
            merged.append([start, end, float(score)])
    pieces: list[tuple[str, float | None]] = []
    position = 0
    for start, end, score in merged:
        if start > position:
            pieces.append((text[position:start], None))
        pieces.append((text[start:end], score))
        position = end
    if position < len(text):
        pieces.append((text[position:], None))
    return _scaled(pieces)


def _scaled(pieces: list[tuple[str, float | None]]) -> list[tuple[str, float | None]]:
    largest = max((abs(s) for _, s in pieces if s is not None), default=0.0) or 1.0
    return [(piece, None if s is None else round(s / largest, 4)) for piece, s in pieces]


def top_words(explanation: Explanation, text: str, k: int = 5) -> list[str]:
    """The ``k`` words that pushed hardest towards the explained class, strongest first."""
    scored = [(s, w.strip()) for w, s in words(explanation, text) if s is not None and s > 0 and w.strip()]
    return [w for _, w in sorted(scored, key=lambda pair: -pair[0])[:k]]


def load_image(example: Any) -> Image.Image:
    """An RGB PIL image from a PIL image, a path or an array (what datasets and Gradio hand over)."""
    if isinstance(example, Image.Image):
        image = example
    elif isinstance(example, np.ndarray):
        image = Image.fromarray(example)
    else:
        image = Image.open(example)
    return image.convert("RGB")


# Grad-CAM is read on a map of at least this many positions a side where the network has one (ResNet's last
# stage at 224 px is 7 x 7); coarser maps (the last stage of a small input) smear a small object over the image.
GRADCAM_MIN_SIDE = 7


def find_gradcam_layer(model: nn.Module, pixel_values: torch.Tensor) -> nn.Module | None:
    """The layer Grad-CAM is computed on: the feature map of the last convolution the network runs whose map has
    at least ``GRADCAM_MIN_SIDE`` positions a side (else the last with at least 2 x 2), taken after what follows
    it at the same shape (normalisation, activation, the residual sum): the last module to hand on that map.
    None when the network runs a single convolution (a ViT's patch embedding: no learnt feature map)."""
    ran: list[tuple[nn.Module, tuple[int, ...]]] = []  # modules in the order they finish, with 4-D tensor outputs

    def record(module: nn.Module, _: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor) and output.dim() == 4:
            ran.append((module, tuple(output.shape)))

    hooks = [m.register_forward_hook(record) for m in model.modules()]
    try:
        with torch.no_grad():
            model(pixel_values=pixel_values)
    finally:
        for hook in hooks:
            hook.remove()
    convolutions = [i for i, (m, _) in enumerate(ran) if isinstance(m, nn.Conv2d)]
    if len({id(ran[i][0]) for i in convolutions}) < 2:
        return None
    fine = [i for i in convolutions if min(ran[i][1][-2:]) >= GRADCAM_MIN_SIDE]
    spatial = [i for i in convolutions if min(ran[i][1][-2:]) >= 2]
    chosen = (fine or spatial or convolutions)[-1]
    while chosen + 1 < len(ran) and ran[chosen + 1][1] == ran[chosen][1]:
        chosen += 1
    return ran[chosen][0]


def explain_image(model: nn.Module, processor: Any, image: Any, target: int | None = None) -> Explanation:
    """Grad-CAM on the last convolution (bilinearly upsampled to the input), or integrated gradients on the
    pixels (summed over the colour channels) for a network without a convolutional stack: one score per pixel
    of the image as the processor hands it to the model."""
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam

    device = next(model.parameters()).device
    pixel_values = processor(images=load_image(image), return_tensors="pt")["pixel_values"].to(device)

    def forward(pixels: torch.Tensor) -> torch.Tensor:
        return _probabilities(model, pixel_values=pixels)

    with torch.no_grad():
        probabilities = forward(pixel_values)[0]
    target = int(probabilities.argmax()) if target is None else int(target)
    layer = find_gradcam_layer(model, pixel_values)
    # Gradients must reach the chosen layer even when the backbone is frozen (pretrained-frozen).
    pixels = pixel_values.clone().requires_grad_(True)
    if layer is not None:
        # On the class's logit, as Grad-CAM is defined: the gradient of a saturated probability vanishes.
        def logits(pixels: torch.Tensor) -> torch.Tensor:
            return model(pixel_values=pixels).logits.float()

        cam = LayerGradCam(logits, layer).attribute(pixels, target=target, relu_attributions=True)
        scores = LayerAttribution.interpolate(cam, tuple(pixel_values.shape[-2:]), interpolate_mode="bilinear")[0, 0]
        method = (
            f"Grad-CAM on the last convolutional feature map ({type(layer).__name__}, {cam.shape[-2]}x{cam.shape[-1]})"
        )
    else:
        attributions = IntegratedGradients(forward).attribute(
            pixels, baselines=torch.zeros_like(pixels), target=target, n_steps=PIXEL_STEPS, internal_batch_size=8
        )
        scores = attributions[0].sum(dim=0)
        method = f"integrated gradients on the pixels ({PIXEL_STEPS} steps, zero baseline)"
    return Explanation(
        target=target, label=_label(model, target), probability=float(probabilities[target]), method=method,
        scores=scores.detach().float().cpu().numpy(), model_inputs={"pixel_values": pixel_values},
    )  # fmt: skip


# Occlusion windows: this share of the series (at least one step), moved by half a window.
SERIES_WINDOW = 1 / 32


def series_window(length: int) -> int:
    """The occlusion's window, in steps, for a series of ``length`` steps (the deletion test masks the same)."""
    return max(1, round(length * SERIES_WINDOW))


def explain_series(model: nn.Module, processor: Any, series: Any, target: int | None = None) -> Explanation:
    """Occlusion over time: each window of ``SERIES_WINDOW`` of the series (all channels at once) set to the
    channels' means, and the drop in the class's probability spread over the window's steps (Captum averages the
    overlapping windows): one score per step of the series as the model read it (padding excluded)."""
    from captum.attr import Occlusion

    device = next(iter(model.parameters()), torch.zeros(0)).device
    inputs = {k: v.to(device) for k, v in processor(series, return_tensors="pt").items()}
    values, mask = inputs["values"], inputs["attention_mask"]
    length = int(mask[0].sum())

    def forward(series_values: torch.Tensor) -> torch.Tensor:
        return _probabilities(model, values=series_values, attention_mask=mask.expand(len(series_values), -1))

    with torch.no_grad():
        probabilities = forward(values)[0]
        target = int(probabilities.argmax()) if target is None else int(target)
        window = series_window(length)
        mean = values[..., :length].mean(dim=-1, keepdim=True)
        baseline = torch.where(mask.bool().unsqueeze(1), mean.expand_as(values), values)
        attributions = Occlusion(forward).attribute(
            values, sliding_window_shapes=(values.shape[1], window), strides=(values.shape[1], max(1, window // 2)),
            baselines=baseline, target=target, perturbations_per_eval=16,
        )  # fmt: skip
    scores = attributions[0, :, :length].sum(dim=0)
    return Explanation(
        target=target, label=_label(model, target), probability=float(probabilities[target]),
        method=f"occlusion over time (windows of {window} steps set to the channel means, stride {window // 2 or 1})",
        scores=scores.float().cpu().numpy(), model_inputs={"values": values, "attention_mask": mask},
    )  # fmt: skip


def saliency_plot(explanation: Explanation) -> Image.Image:
    """The series as the model read it (each channel a line) over the saliency: red where the steps pushed towards
    the explained class, blue where they pushed away, as strong as the largest score."""
    length = len(explanation.scores)
    values = explanation.model_inputs["values"][0, :, :length].float().cpu().numpy()
    title = f"why '{explanation.label}' ({explanation.probability:.2f}): red pushed towards it"
    return series_picture(values, explanation.scores, title)


def model_view(explanation: Explanation) -> Image.Image:
    """The image as the model saw it (resized, cropped), its normalisation undone by rescaling to 0-255."""
    pixels = explanation.model_inputs["pixel_values"][0].float().cpu()
    pixels = (pixels - pixels.min()) / max(float(pixels.max() - pixels.min()), 1e-8)
    array = (pixels.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    return Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).convert("RGB")


def heatmap_overlay(explanation: Explanation, size: int = 224, alpha: float = 0.5) -> Image.Image:
    """The positive attributions as a heatmap (matplotlib's ``jet``, scaled to the largest) over the model's
    view of the image, ``size`` pixels on its longer side (small inputs are enlarged without smoothing)."""
    from matplotlib import colormaps

    base = model_view(explanation)
    heat = np.clip(explanation.scores, 0, None)
    heat = heat / heat.max() if heat.max() > 0 else heat
    colours = Image.fromarray((colormaps["jet"](heat)[..., :3] * 255).astype(np.uint8))
    scale = size / max(base.size)
    shape = (max(1, round(base.width * scale)), max(1, round(base.height * scale)))
    resample = Image.Resampling.NEAREST if max(base.size) < 64 else Image.Resampling.BILINEAR
    return Image.blend(base.resize(shape, resample), colours.resize(shape, resample), alpha)


# The deletion test masks images in square patches of this share of the side (14 px at 224): scattered single
# pixels set to the mean colour are a noise no training image had, and a pretrained network's prediction
# collapses under it wherever it falls (measured: EfficientNet-Lite0 on the digits lost 0.86 of its probability
# to 10% random pixels, 0.17 to the top 10%). Patches make the top and the random masks the same kind of change.
DELETION_PATCH = 1 / 16


def deletion_test(
    model: nn.Module, explanation: Explanation, fraction: float = DELETION_FRACTION, seed: int = 0
) -> dict[str, float]:
    """How much the explained class's probability drops when the ``fraction`` most-attributed tokens are removed
    (text: deleted from the sequence; special tokens stay), windows of a series masked (the occlusion's windows,
    by mean score, set to the channel means) or pixels masked (images: the most attributed square
    patches of ``DELETION_PATCH`` of the side, by mean score, set to 0, the mean colour after normalisation),
    against removing as many chosen at random. A faithful explanation drops it clearly more."""
    rng = np.random.default_rng(seed)
    inputs = explanation.model_inputs
    probability = {}
    with torch.no_grad():
        if "input_ids" in inputs:
            candidates = np.flatnonzero(~explanation.special)
            count = max(1, math.ceil(fraction * len(candidates)))
            ranked = candidates[np.argsort(-explanation.scores[candidates], kind="stable")]
            chosen = {"top": ranked[:count], "random": rng.choice(candidates, count, replace=False)}
            for name, removed in chosen.items():
                keep = torch.from_numpy(np.setdiff1d(np.arange(len(explanation.scores)), removed))
                kept = {k: v[:, keep.to(v.device)] for k, v in inputs.items()}
                probability[name] = float(_probabilities(model, **kept)[0, explanation.target])
        elif "values" in inputs:  # a series: the most attributed windows (the occlusion's) set to the channel means
            values, mask = inputs["values"], inputs["attention_mask"]
            length = len(explanation.scores)
            window = series_window(length)
            starts = np.arange(0, length, window)
            windows = np.array([explanation.scores[i : i + window].mean() for i in starts])
            count = max(1, math.ceil(fraction * len(starts)))
            chosen = {
                "top": np.argsort(-windows, kind="stable")[:count],
                "random": rng.choice(len(starts), count, replace=False),
            }
            fill = values[..., :length].mean(dim=-1, keepdim=True)
            for name, removed in chosen.items():
                masked = values.clone()
                for w in removed:
                    masked[..., starts[w] : starts[w] + window] = fill
                probability[name] = float(
                    _probabilities(model, values=masked, attention_mask=mask)[0, explanation.target]
                )
        else:
            pixels = inputs["pixel_values"]
            height, width = pixels.shape[-2:]
            side = max(1, round(min(height, width) * DELETION_PATCH))
            rows, columns = math.ceil(height / side), math.ceil(width / side)
            scores = np.zeros((rows * side, columns * side))
            scores[:height, :width] = explanation.scores
            patches = scores.reshape(rows, side, columns, side).mean(axis=(1, 3)).ravel()
            count = max(1, math.ceil(fraction * patches.size))
            chosen = {
                "top": np.argsort(-patches, kind="stable")[:count],
                "random": rng.choice(patches.size, count, replace=False),
            }
            for name, removed in chosen.items():
                grid = torch.ones(rows * columns, device=pixels.device)
                grid[torch.from_numpy(removed).to(pixels.device)] = 0
                mask = grid.view(rows, columns).repeat_interleave(side, 0).repeat_interleave(side, 1)
                # Masked to the image's own mean colour (per channel): as close to "nothing there" as one
                # colour gets for that image (black for a digit, its average for a photo).
                fill = pixels.mean(dim=(-2, -1), keepdim=True)
                keep = mask[:height, :width]
                masked = pixels * keep + fill * (1 - keep)
                probability[name] = float(_probabilities(model, pixel_values=masked)[0, explanation.target])
    return {
        "probability": explanation.probability,
        "drop_top": explanation.probability - probability["top"],
        "drop_random": explanation.probability - probability["random"],
    }
