"""The model of the designer: the document (spec, layout, settings, validation) and its
geometry. It imports no view (canvas, panels) and no editor: everything else reads it."""
