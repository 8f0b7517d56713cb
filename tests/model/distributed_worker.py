"""One process of a small data-parallel training, for tests/model/test_distributed.py.

Run by the test as `python distributed_worker.py SPEC.json` with torchrun's variables
(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) set. SPEC: n (box sequences), config
(KVAEConfig fields), epochs, steps (stop after this many, or null), out (a run folder per
rank, "{rank}" filled in, or null), resume, poison ({"rank", "calls"}: model.elbo returns
a NaN loss on those 0-based calls, on that rank only), results (a folder). Writes
results/state-RANK.safetensors (the model's weights at the end) and results/steps-RANK.json
(each step's ELBO and whether it was skipped).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import torch
from kvae_reference import box_data, poison
from safetensors.torch import save_file
from trainer_options import cpu_fp32

from model.config import KVAEConfig
from model.distributed import launched
from model.training import Trainer


def main(spec: dict) -> None:
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    images, _ = box_data(spec["n"], seed=3)
    out = spec.get("out")
    with launched(torch.device("cpu"), timeout=spec.get("timeout", 60)) as processes:
        options = cpu_fp32(
            run_dir=None if out is None else out.format(rank=rank),
            resume=bool(spec.get("resume")),
            epochs=spec.get("epochs"),
        )
        if not spec.get("resume"):
            options = dataclasses.replace(options, config=KVAEConfig(**spec["config"]))
        trainer = Trainer(images[:, :6], options=options, processes=processes)
        bad = spec.get("poison") or {}
        if bad.get("rank") == rank:
            poison(trainer, set(bad["calls"]))
        steps = []
        for event in trainer.run():
            if event.kind == "step":
                steps.append({"elbo": event.terms["elbo"], "skipped": event.skipped})
                if len(steps) == spec.get("steps"):
                    trainer.stop()
    results = Path(spec["results"])
    state = {k: v.contiguous() for k, v in trainer.model.state_dict().items()}
    save_file(state, str(results / f"state-{rank}.safetensors"))
    (results / f"steps-{rank}.json").write_text(json.dumps(steps))


if __name__ == "__main__":
    main(json.loads(Path(sys.argv[1]).read_text()))
