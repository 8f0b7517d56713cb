"""What the studio works on, without Qt: the Explore document and everything it holds.

- `explore`: the Explore document (sequence, source, masks, model, frame) and its events;
- `sources`: where a sequence came from, as typed values;
- `masking`, `brush`, `mask_presets`: the occlusion masks, their strokes and undo;
- `session`: the session file; `opening`: opening files, every failure as one line.

The window observes these objects and calls their methods; tests drive them without a
display (napari's `ViewerModel` plays this part for its viewer).
"""
