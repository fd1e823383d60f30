"""Explanations are faithful on data where the answer is known: a keyword that decides a text's class must be its
top-attributed word, and a coloured patch that decides an image's class must hold its top-attributed pixels.
The models are the lineups' own, trained here for a few seconds on generated data."""

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import (
    DistilBertConfig,
    DistilBertForSequenceClassification,
    ResNetConfig,
    ResNetForImageClassification,
    ViTConfig,
    ViTForImageClassification,
)

from training.core.explain import (
    deletion_test,
    explain,
    find_gradcam_layer,
    heatmap_overlay,
    top_words,
    words,
)
from training.image.lineup import scratch_processor
from training.models.modeling_image_cnn import ImageCNNConfig, ImageCNNForImageClassification
from training.text.lineup import TEXT_MODELS, TextModelArguments
from training.text.tokenizers import train_wordpiece_tokenizer

KEYWORDS = ["alpha", "omega"]
FILLER = [
    *"the a of and to in is was for on with as by at from that this it be are".split(),
    *(f"w{i}" for i in range(40)),
]
IMAGE_SIZE, PATCH = 64, 16


def fit(model: torch.nn.Module, batches: list, epochs: int, lr: float = 3e-3) -> torch.nn.Module:
    torch.manual_seed(0)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for _ in range(epochs):
        for inputs, labels in batches:
            loss = model(**inputs, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@pytest.fixture(scope="module")
def keyword_texts() -> tuple[list[str], np.ndarray]:
    """Filler words in random order, and one keyword at a random place: the keyword is the class."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    texts = []
    for label in labels:
        sentence = list(rng.choice(FILLER, rng.integers(6, 14)))
        sentence.insert(int(rng.integers(0, len(sentence) + 1)), KEYWORDS[label])
        texts.append(" ".join(sentence))
    return texts, labels


@pytest.mark.parametrize("name", ["scratch-simple", "scratch-complex"])
def test_the_deciding_keyword_is_the_top_attributed_word(name, keyword_texts):
    texts, labels = keyword_texts
    torch.manual_seed(0)
    args = TextModelArguments(vocab_size=200, embedding_dim=32, hidden_size=32, dan_hidden_size=32)
    run = TEXT_MODELS[name].build(args, texts[:200], ["a", "b"], 32)
    batches = []
    for i in range(0, 200, 20):
        encoded = run.processor(texts[i : i + 20], padding=True, truncation=True, return_tensors="pt")
        inputs = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
        batches.append((inputs, torch.tensor(labels[i : i + 20])))
    model = fit(run.model, batches, epochs=10)
    hits = 0
    for text, label in zip(texts[200:], labels[200:], strict=True):
        explanation = explain(model, run.processor, text)
        hits += top_words(explanation, text, 1) == [KEYWORDS[label]]
    assert hits / 100 >= 0.9, f"{name}: the keyword is the top word in {hits}% of the test texts"


def patch_images(count: int, seed: int) -> tuple[list[Image.Image], list[np.ndarray], np.ndarray]:
    """Grey noise with a red (class 0) or blue (class 1) square at a random place; the square's mask."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    images, masks = [], []
    for label in labels:
        array = (rng.random((IMAGE_SIZE, IMAGE_SIZE, 3)) * 80 + 88).astype(np.uint8)
        y, x = rng.integers(0, IMAGE_SIZE - PATCH + 1, 2)
        array[y : y + PATCH, x : x + PATCH] = [220, 30, 30] if label == 0 else [30, 30, 220]
        mask = np.zeros((IMAGE_SIZE, IMAGE_SIZE), bool)
        mask[y : y + PATCH, x : x + PATCH] = True
        images.append(Image.fromarray(array))
        masks.append(mask)
    return images, masks, labels


@pytest.mark.parametrize(
    "design",
    [
        {"design": "plain", "stage_channels": [16, 32, 64]},
        {"design": "resnet", "stage_channels": [16, 32, 64], "batch_norm": True, "residual": True},
    ],
    ids=["plain", "resnet"],
)
def test_the_deciding_patch_holds_the_top_attributed_pixels(design):
    images, masks, labels = patch_images(300, seed=0)
    processor = scratch_processor(IMAGE_SIZE)
    pixels = processor(images=images[:200], return_tensors="pt")["pixel_values"]
    torch.manual_seed(0)
    model = ImageCNNForImageClassification(ImageCNNConfig(image_size=IMAGE_SIZE, num_labels=2, **design))
    batches = [({"pixel_values": pixels[i : i + 20]}, torch.tensor(labels[i : i + 20])) for i in range(0, 200, 20)]
    model = fit(model, batches, epochs=6)
    on_patch, mass = [], []
    for image, mask in zip(images[200:], masks[200:], strict=True):
        explanation = explain(model, processor, image)
        assert explanation.method.startswith("Grad-CAM")
        # As many top pixels as half the patch: Grad-CAM's map (16 x 16 here, upsampled) is smooth, so the
        # blob over the patch has a rim around it (with as many as the whole patch: 0.89 plain, 0.80 resnet).
        top = np.argsort(-explanation.scores.ravel(), kind="stable")[: mask.sum() // 2]
        on_patch.append(mask.ravel()[top].mean())
        heat = np.clip(explanation.scores, 0, None)
        mass.append(heat[mask].sum() / heat.sum())
    # The patch is 1/16 of the image: at random, 6% of the top pixels and of the mass would fall on it.
    assert np.mean(on_patch) >= 0.8, f"top-attributed pixels on the patch: {np.mean(on_patch):.2f}"
    assert np.mean(mass) >= 0.35, f"Grad-CAM mass on the patch: {np.mean(mass):.2f}"


def test_words_cover_the_text_and_merge_word_pieces():
    texts = ["unbelievable results in the market today", "the market fell"] * 10
    tokenizer = train_wordpiece_tokenizer(texts, 60, 16)
    config = DistilBertConfig(vocab_size=len(tokenizer), dim=16, n_layers=1, n_heads=2, hidden_dim=32, num_labels=2,
                              pad_token_id=tokenizer.pad_token_id)  # fmt: skip
    torch.manual_seed(0)
    model = DistilBertForSequenceClassification(config).eval()
    text = "Unbelievable  results, in the market!"
    explanation = explain(model, tokenizer, text)
    pieces = words(explanation, text)
    assert "".join(piece for piece, _ in pieces) == text
    scored = [piece for piece, score in pieces if score is not None]
    assert "Unbelievable" in scored  # its word pieces merged into one word
    assert max(abs(score) for _, score in pieces if score is not None) == pytest.approx(1.0)
    result = deletion_test(model, explanation)
    assert set(result) == {"probability", "drop_top", "drop_random"}


def test_a_network_with_only_a_patch_embedding_gets_integrated_gradients_on_pixels():
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=32, num_labels=3)  # fmt: skip
    torch.manual_seed(0)
    model = ViTForImageClassification(config).eval()
    processor = scratch_processor(32)
    image = Image.fromarray((np.random.default_rng(0).random((40, 48, 3)) * 255).astype(np.uint8))
    assert find_gradcam_layer(model, processor(images=image, return_tensors="pt")["pixel_values"]) is None
    explanation = explain(model, processor, image)
    assert explanation.method.startswith("integrated gradients on the pixels")
    assert explanation.scores.shape == (32, 32)
    assert heatmap_overlay(explanation, size=100).size == (100, 100)
    drops = deletion_test(model, explanation)  # 2 x 2 px patches of the 32 px input, 10% of them masked
    assert drops["probability"] == explanation.probability and drops["drop_top"] != drops["drop_random"]


def test_grad_cam_reads_a_hub_resnet_on_its_last_stage():
    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], num_labels=2)
    torch.manual_seed(0)
    model = ResNetForImageClassification(config).eval()
    processor = scratch_processor(64)
    image = Image.new("RGB", (64, 64), (120, 60, 30))
    layer = find_gradcam_layer(model, processor(images=image, return_tensors="pt")["pixel_values"])
    assert type(layer).__name__ == "ResNetStage"
    explanation = explain(model, processor, image, target=1)
    assert explanation.target == 1 and explanation.scores.shape == (64, 64)
