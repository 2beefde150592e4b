"""Export a training run's latest checkpoint as a model file (e.g. the embedded default).

    python tools/export_checkpoint.py runs/lite2 lucid/models/weights/default.safetensors

The model gets the run's moving average of the decoder's weights; ``--last-step`` exports the
weights of the last optimisation step instead (to compare the two).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lucid.models.training import Trainer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--last-step", action="store_true",
                        help="the last step's weights, not their moving average")
    args = parser.parse_args()
    trainer = Trainer.resume(args.run_dir)
    trainer.export_model(args.output, average=not args.last_step)
    print(f"wrote {args.output} (iteration {trainer.iteration})")


if __name__ == "__main__":
    main()
