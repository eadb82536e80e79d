"""Scripts beside the package that are not part of `workbench bench`.

`python benchmarks/presets.py` trains every preset to its stated result (the README's table);
`python -m benchmarks.engine_profile` splits the engine's overhead by cost. The benchmarks that
`workbench bench` runs live in the package (`workbench/bench/`), so that an installed wheel has them.
"""
