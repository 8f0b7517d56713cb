"""What the studio works on, without Qt: the Explore document and where a sequence came from.

The window observes these objects and calls their methods; tests drive them without a
display (napari's `ViewerModel` plays this part for its viewer).
"""
