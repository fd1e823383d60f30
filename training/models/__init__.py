"""Model definitions built from scratch.

Each ``modeling_*.py`` file is self-contained (it imports only torch and transformers) because
``save_pretrained`` copies it next to the weights: anyone can then load the checkpoint with
``from_pretrained(..., trust_remote_code=True)`` without installing this project.
"""
