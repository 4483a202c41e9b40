"""Models: linear heads trained on fit_inner, metrics, ONNX export, frozen reader and inference engine."""
