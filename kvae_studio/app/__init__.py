"""The studio window (Qt). Importing this package imports no Qt; `main.run_app` does.

Layers: Qt-free models (`masking`, `brush`, `mask_presets`, `session`, `inference`,
`inference_process`, `export`) hold the state and the maths and are tested without a
display; Qt modules (`worker`, `explore/`, `main_window`, `main`) only show that state
and forward input. The model runs in a child process (`inference_process`) that never
imports Qt.
"""
