"""jixiao: one import namespace for the pipeline's folders (pyproject maps ``flows/`` to
``jixiao.flows`` and so on). This package itself holds what every layer uses: crash
checkpoints, the input limits, and what users read in both languages (``said``)."""
