"""MiniRocket (Dempster, Schmidt and Webb 2021) as a checkpoint: aeon's transform (10,000 features: the share of
positive values of dilated convolutions with fixed kernels, biases from the training data) -> features scaled
as by scikit-learn's ``StandardScaler(with_mean=False)`` -> a ridge classifier with its penalty chosen by
leave-one-out cross-validation (``RidgeClassifierCV``), as aeon's ``MiniRocketClassifier``.

Fitted in closed form by ``fit`` (no gradient steps), then saved like every other model: the transform's
fitted parameters, the scale and the ridge weights are tensors in ``model.safetensors``, not a pickle. The
ridge gives scores, not probabilities: they are turned into probabilities by a softmax at a temperature
(which leaves the predicted class unchanged) of lowest log loss over the training series' leave-one-out
scores, which the ridge's cross-validation computes in closed form, and the validation split's scores. The
validation split alone is too small on the archives: ArrowHead's 4 series, all right, drove the temperature
to the grid's top (100) and the test log loss to 3.23; with the leave-one-out scores it is 0.40 (2026-12-03).

Self-contained on purpose (torch, transformers, aeon): this file ships with the weights.
"""

import numpy as np
import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

# aeon's MiniRocket.parameters, in order: what the transform was fitted to.
PARAMETERS = ("n_channels_per_combination", "channel_indices", "dilations", "n_features_per_dilation", "biases")
TEMPERATURES = np.logspace(-1, 2, 31)
# aeon's MiniRocket convolves kernels of 9 taps and refuses shorter series ("n_timepoints must be >= 9"): those
# are padded with zeros to 9 steps, as a series shorter than max_length is padded by the feature extractor.
MIN_STEPS = 9


def _at_least_min_steps(values: np.ndarray) -> np.ndarray:
    """Series (n x channels x steps) padded with zeros after their end to at least ``MIN_STEPS`` steps, float32."""
    values = np.asarray(values, dtype=np.float32)
    short = MIN_STEPS - values.shape[-1]
    return np.pad(values, [(0, 0), (0, 0), (0, short)]) if short > 0 else values


class MiniRocketConfig(PretrainedConfig):
    model_type = "minirocket-classifier"

    def __init__(
        self,
        num_channels: int = 1,
        max_series_length: int = 512,
        num_kernels: int = 10_000,
        parameter_sizes: dict[str, int] | None = None,
        num_features: int = 0,
        softmax_temperature: float = 1.0,
        ridge_alpha: float | None = None,
        **kwargs,
    ):
        self.num_channels = num_channels
        self.max_series_length = max_series_length
        self.num_kernels = num_kernels
        self.parameter_sizes = dict(parameter_sizes or {name: 0 for name in PARAMETERS})
        self.num_features = num_features
        self.softmax_temperature = softmax_temperature
        self.ridge_alpha = ridge_alpha
        super().__init__(**kwargs)


class MiniRocketForClassification(PreTrainedModel):
    config_class = MiniRocketConfig
    base_model_prefix = "minirocket"
    main_input_name = "values"

    def __init__(self, config: MiniRocketConfig):
        super().__init__(config)
        for name in PARAMETERS:
            dtype = torch.float32 if name == "biases" else torch.int32
            self.register_buffer(name, torch.zeros(config.parameter_sizes[name], dtype=dtype))
        self.register_buffer("scale", torch.ones(config.num_features))
        # Binary ridge gives one score (for the second class): the logits are -score and +score. Before fit
        # (num_features 0) a placeholder of one input, which fit replaces.
        outputs = 1 if config.num_labels == 2 else config.num_labels
        self.classifier = nn.Linear(max(config.num_features, 1), outputs)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        pass  # fitted in closed form (fit) or loaded

    def transform(self, values: torch.Tensor) -> torch.Tensor:
        """MiniRocket's features of a batch of series (batch x channels x steps), by aeon's own transform."""
        from aeon.transformations.collection.convolution_based import MiniRocket

        rocket = MiniRocket(n_kernels=self.config.num_kernels)
        rocket.parameters = tuple(getattr(self, name).cpu().numpy() for name in PARAMETERS)
        rocket._n_jobs = 1
        features = rocket._transform(_at_least_min_steps(values.detach().cpu().numpy()))
        return torch.as_tensor(np.asarray(features), dtype=torch.float32, device=values.device)

    def scores(self, values: torch.Tensor) -> torch.Tensor:
        """The ridge classifier's decision scores (batch x classes), before the temperature."""
        scores = self.classifier(self.transform(values) / self.scale)
        return torch.cat([-scores, scores], dim=1) if scores.shape[1] == 1 else scores

    def forward(self, values=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        logits = self.scores(values) * self.config.softmax_temperature
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def fitted_hyperparameters(self) -> dict[str, float | int | None]:
        """What the fit chose, for the model card: kernels, features, the ridge's penalty, the temperature."""
        config = self.config
        return {
            "num_kernels": config.num_kernels, "num_features": config.num_features,
            "ridge_alpha": config.ridge_alpha, "softmax_temperature": config.softmax_temperature,
        }  # fmt: skip

    @torch.no_grad()
    def fit(self, values: np.ndarray, labels: np.ndarray, seed: int, validation: tuple[np.ndarray, np.ndarray]) -> None:
        """Fit the transform, the scale and the ridge on training series (n x channels x steps), then the
        softmax temperature on the training series' leave-one-out scores and the ``validation`` (series, labels)."""
        from aeon.transformations.collection.convolution_based import MiniRocket
        from sklearn.linear_model import RidgeClassifierCV
        from sklearn.preprocessing import StandardScaler

        values = _at_least_min_steps(values)
        rocket = MiniRocket(n_kernels=self.config.num_kernels, random_state=seed).fit(values)
        features = np.asarray(rocket.transform(values))
        scaler = StandardScaler(with_mean=False).fit(features)
        ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)).fit(scaler.transform(features), labels)
        for name, array in zip(PARAMETERS, rocket.parameters, strict=True):
            setattr(self, name, torch.as_tensor(np.asarray(array)))
            self.config.parameter_sizes[name] = int(np.asarray(array).size)
        self.scale = torch.as_tensor(scaler.scale_, dtype=torch.float32)
        weight, bias = np.atleast_2d(ridge.coef_), np.atleast_1d(ridge.intercept_)  # binary: one row
        self.classifier = nn.Linear(features.shape[1], weight.shape[0])
        self.classifier.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        self.classifier.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
        self.config.num_features, self.config.ridge_alpha = int(features.shape[1]), float(ridge.alpha_)
        # Each training series' score from the ridge fitted without it, at the penalty chosen above: with a
        # scoring, RidgeClassifierCV stores these leave-one-out predictions (without one, their squared errors).
        loo = RidgeClassifierCV(alphas=[ridge.alpha_], scoring="accuracy", store_cv_results=True)
        loo_scores = torch.as_tensor(loo.fit(scaler.transform(features), labels).cv_results_[..., 0]).double()
        if loo_scores.shape[1] == 1:  # binary: one score, as in scores()
            loo_scores = torch.cat([-loo_scores, loo_scores], dim=1)
        scores = torch.cat([loo_scores, self.scores(torch.as_tensor(validation[0])).double()])
        truth = torch.as_tensor(np.concatenate([labels, validation[1]]), dtype=torch.long)
        losses = [nn.functional.cross_entropy(scores * t, truth).item() for t in TEMPERATURES]
        self.config.softmax_temperature = float(TEMPERATURES[int(np.argmin(losses))])
