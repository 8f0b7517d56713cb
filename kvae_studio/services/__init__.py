"""What the command line and the window both do, written once: no Qt here.

`kvae_studio.commands` (the command line) and `kvae_studio.app` (the window) call these
modules, so that the two front ends train, evaluate, export and name models the same way:

- `training`: the training data (several files joined), the checks made before any work,
  the `Trainer` built from a request, its numerical failures as one message, and the run
  folder's `studio.json`, and the Train panel's job (`run_training`, `TrainSession`);
- `evaluation`: the models and test set of a sweep, checked before the first sweep, the
  sweeps, and the Evaluate panel's job (`run_sweeps`); `sweep_results`: what a sweep
  gives, its models' names and the finished sweeps kept;
- `work`: the one way to run work in a process of its own, and how a task is stopped;
- `scene_work`: simulating a data set as a job;
- `inference` and `inference_process`: the model's work for Explore, in a child process;
- `export` and `paper_videos`: pictures and the paper's videos;
- `resources`, `model_names`, `model_card`: the shipped models and what a model is called.

Import-linter contracts in pyproject.toml keep PySide6 and pyqtgraph out, and the
services below the document and the window.
"""
