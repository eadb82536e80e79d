"""Parameter counts of the bundled presets, recorded so that listing them needs no torch.

Keyed by `workbench.presets.network_fingerprint`; a network that is not here is counted by
building it. After changing a preset's network, regenerate this table with
`python -m workbench.preset_counts` (a test fails until then).
"""

from __future__ import annotations

COUNTS: dict[str, int] = {
    "7ed4c02c7d33678e": 13706,  # digits-cnn
    "0f671793c6bd6ad4": 17226,  # digits-mlp
    "b86356555bd84ea0": 37802,  # digits-resnet
    "27d3b60b69e646ad": 69194,  # digits-vit
    "8cb7af621f5b990b": 6628,  # lstm-classifier
    "c04ceb1a29d14199": 4929,  # regression-mlp
    "3d82b4c4c98c88fe": 131966,  # seq2seq-transformer
    "3543ae21f643294e": 4547,  # spirals-mlp
    "c8cafae07ef0f9b8": 4482,  # tabular-mlp
    "9da2a703968e8e59": 429664,  # tiny-gpt
}  # end of COUNTS


if __name__ == "__main__":
    from workbench.presets import write_preset_counts

    print(f"wrote {write_preset_counts()}")
