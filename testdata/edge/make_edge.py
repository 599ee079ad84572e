"""Inputs that are valid checkpoints but cannot be converted as asked, made with real torch
(run with /usr/bin/python3 from the repository root). See README.md beside this file."""
import shutil
from pathlib import Path

import torch

HERE = Path(__file__).parent
FIXTURE = HERE.parent / "sat" / "cogvideox-5b-lora"

# The 5B LoRA fixture with one more transformer key, named as safetensors' header metadata:
# --unknown-keys keep would write a tensor called __metadata__, which no safetensors file can hold.
run = HERE / "reserved-tensor-name"
(run / "200").mkdir(parents=True, exist_ok=True)
shutil.copy(FIXTURE / "latest", run / "latest")
shutil.copy(FIXTURE / "model_config.json", run / "model_config.json")
state = torch.load(FIXTURE / "200" / "mp_rank_00_model_states.pt", map_location="cpu")
state["module"]["model.diffusion_model.__metadata__"] = torch.zeros(4, dtype=torch.float16)
torch.save(state, run / "200" / "mp_rank_00_model_states.pt")
