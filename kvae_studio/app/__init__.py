"""The studio window (Qt). Importing this package imports no Qt; `main.run_app` does.

Only this package imports Qt. It shows what the Qt-free layers hold and forwards input
to them: `kvae_studio.document` (the Explore document, masks, sessions, opening files)
and `kvae_studio.services` (training, evaluation, the model's process, videos). The model
runs in a child process (`services.inference_process`) that never imports Qt.
"""
