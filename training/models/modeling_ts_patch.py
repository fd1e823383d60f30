"""Hub PatchTST and PatchTSMixer checkpoints (e.g. ibm-granite's, or one pretrained with masked reconstruction)
fine-tuned as classifiers of this project's inputs.

transformers' own classification heads take ``past_values`` (batch x steps x channels) and ``target_values``
and answer ``prediction_logits`` / ``prediction_outputs``; the project's Trainer loop, pipeline, explanations
and ensemble speak ``values`` (batch x channels x steps), ``attention_mask``, ``labels`` and ``logits``. These
subclasses translate, and nothing else: the weights, config and ``from_pretrained`` are transformers'.
The series are padded or cut to the checkpoint's ``context_length`` by the feature extractor; padded steps
count as unobserved where the model has such a mask (PatchTST's scaler). Self-contained on purpose: this
file ships with the weights.
"""

import torch
from transformers import PatchTSMixerForTimeSeriesClassification, PatchTSTForClassification
from transformers.modeling_outputs import SequenceClassifierOutput


def _steps_last(values: torch.Tensor) -> torch.Tensor:
    return values.transpose(1, 2)  # (batch, channels, steps) -> (batch, steps, channels)


class PatchTSTForTimeSeriesClassification(PatchTSTForClassification):
    main_input_name = "values"

    def forward(self, values=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        past_values = _steps_last(values)
        observed = None
        if attention_mask is not None:
            observed = attention_mask[:, :, None].expand_as(past_values).to(past_values.dtype)
        output = super().forward(
            past_values=past_values, target_values=labels, past_observed_mask=observed, return_dict=True
        )
        return SequenceClassifierOutput(loss=output.loss, logits=output.prediction_logits)


class PatchTSMixerForTimeSeriesClassificationOfValues(PatchTSMixerForTimeSeriesClassification):
    main_input_name = "values"

    def forward(self, values=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        output = super().forward(past_values=_steps_last(values), target_values=labels, return_dict=True)
        return SequenceClassifierOutput(loss=output.loss, logits=output.prediction_outputs)
