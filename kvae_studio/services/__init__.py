"""What the command line and the window both do, written once: no Qt here.

`kvae_studio.commands` (the command line) and `kvae_studio.app` (the window) call these
functions, so that the two front ends train, evaluate and name models the same way:

- `training`: the training data (several files joined), the checks made before any work,
  the `Trainer` built from a request, its numerical failures as one message, and the run
  folder's `studio.json`;
- `evaluation`: the models and test set of a sweep, checked before the first sweep, the
  sweep results and their CSV;
- `model_names`: what a model file is called in lists, titles and the sweep CSV.

The import-linter contract in pyproject.toml keeps PySide6 and pyqtgraph out.
"""
