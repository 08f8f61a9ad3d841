"""The network: Conv3x3 (F filters) -> MaxPool2 -> Softmax, on 28x28 digits.

    image (N, 28, 28), 0..255
      -> deskewed (core.deskew), when the model was made to read deskewed digits
      -> x / 255 - 0.5
      -> Conv3x3    (N, 26, 26, F)
      -> MaxPool2   (N, 13, 13, F)
      -> Softmax    (N, 10) logits -> probabilities
"""
import numpy as np

from core import modelfile
from core.deskew import deskew as deskewed
from core.layers import Conv3x3, MaxPool2, Softmax
from core.losses import cross_entropy, softmax
from core.mnist_format import IMAGE_SHAPE, NUM_CLASSES, POOLED_SIDE


class CNN:
    def __init__(self, num_filters=8, seed=None, dtype=np.float32, deskew=False):
        rng = np.random.default_rng(seed)
        self.num_filters = num_filters
        self.deskew = bool(deskew)  # the input stage deskews every image; recorded in the model file
        self.dtype = np.dtype(dtype)
        self.conv = Conv3x3(num_filters, rng, self.dtype)
        self.pool = MaxPool2()
        self.softmax = Softmax(POOLED_SIDE * POOLED_SIDE * num_filters, NUM_CLASSES, rng, self.dtype)
        self.layers = {"conv": self.conv, "pool": self.pool, "softmax": self.softmax}
        # One flat view of every parameter, keyed "layer.name"; the arrays are the layers' own,
        # so an optimizer updating them in place updates the network.
        self.params = {
            f"{layer_name}.{name}": array
            for layer_name, layer in self.layers.items()
            for name, array in layer.params.items()
        }

    # ----- forward and backward -------------------------------------------------------------

    def input_images(self, images):
        """(N, 28, 28) or (28, 28), 0..255 -> (N, 28, 28): what the network reads (deskewed if it deskews)."""
        images = self._batch(images)
        return deskewed(images) if self.deskew else images

    def _batch(self, images):
        """(N, 28, 28) or (28, 28) -> (N, 28, 28); ValueError for any other shape."""
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"expected images of shape (N, 28, 28) or (28, 28), got {images.shape}")
        return images

    def _normalise(self, images, seen=False):
        """(N, 28, 28) or (28, 28), 0..255 -> (N, 28, 28) in -0.5..0.5, in the model's dtype.

        seen: the images are already what the network reads (input_images' or read's output), so
        the input stage is skipped: a deskewed image is never deskewed a second time.
        """
        return self._scale(self._batch(images) if seen else self.input_images(images))

    def _scale(self, images):
        """(N, 28, 28) as the network reads them, 0..255 -> (N, 28, 28) in -0.5..0.5, in the model's dtype."""
        x = np.multiply(images, self.dtype.type(1 / 255), dtype=self.dtype)  # one pass: cast and scale
        x -= self.dtype.type(0.5)
        return x

    def logits(self, images, seen=False):
        """images (N, 28, 28) or (28, 28), 0..255 -> scores (N, 10); `seen` as in _normalise."""
        x = self._normalise(images, seen)  # (N, 28, 28)
        x = self.conv.forward(x)  # (N, 26, 26, F)
        x = self.pool.forward(x)  # (N, 13, 13, F)
        return self.softmax.forward(x)  # (N, 10)

    def predict_proba(self, images, seen=False):
        """images (N, 28, 28) or (28, 28), 0..255 -> probabilities (N, 10); `seen` as in _normalise."""
        return softmax(self.logits(images, seen))

    def predict(self, images, seen=False):
        """images (N, 28, 28) or (28, 28) -> predicted digits (N,); `seen` as in _normalise."""
        return self.logits(images, seen).argmax(axis=1)

    def feature_maps(self, image):
        """One (28, 28) image, 0..255 -> what the F filters make of it, (26, 26, F)."""
        return np.ascontiguousarray(self.conv.forward(self._normalise(image))[0])

    def read(self, image):
        """One (28, 28) image, 0..255 -> (what the network reads (28, 28), probabilities (10,),
        feature maps (26, 26, F)), from a single forward pass (the pad asks for all three per stroke)."""
        seen = self.input_images(image)  # (1, 28, 28), deskewed once if the model deskews
        maps = self.conv.forward(self._scale(seen))  # (1, 26, 26, F)
        feature_maps = np.ascontiguousarray(maps[0])  # (26, 26, F), before the next layers run
        logits = self.softmax.forward(self.pool.forward(maps))  # (1, 10)
        return seen[0], softmax(logits)[0], feature_maps

    def forward_backward(self, images, labels, need_input_grad=False, seen=False):
        """One forward and backward pass over a batch; changes no parameter.

        Returns (mean loss, grads with the keys of .params, probabilities (N, 10)), plus the
        gradient w.r.t. the normalised input (N, 28, 28) when need_input_grad is set (with
        seen=True, as in _normalise, that is a gradient w.r.t. the pixels of `images` themselves).
        """
        labels = np.asarray(labels, dtype=np.intp)
        loss, d_logits, probs = cross_entropy(self.logits(images, seen), labels)
        d_pooled = self.softmax.backward(d_logits)  # (N, 13, 13, F)
        d_conv = self.pool.backward(d_pooled)  # (N, 26, 26, F)
        d_input = self.conv.backward(d_conv, need_input_grad)  # (N, 28, 28) or None
        grads = {
            f"{layer_name}.{name}": grad
            for layer_name, layer in self.layers.items()
            for name, grad in layer.grads.items()
        }
        if need_input_grad:
            return loss, grads, probs, d_input
        return loss, grads, probs

    def loss_and_grads(self, images, labels):
        """(mean cross-entropy over the batch, grads dict shaped like .params)."""
        loss, grads, _ = self.forward_backward(images, labels)
        return loss, grads

    # ----- parameters and files -------------------------------------------------------------

    def get_params(self):
        """A copy of every parameter."""
        return {name: array.copy() for name, array in self.params.items()}

    def set_params(self, params):
        """Copy values into the existing arrays (so optimizers keep pointing at them)."""
        for name, array in self.params.items():
            if params[name].shape != array.shape:
                raise ValueError(f"{name}: shape {params[name].shape} does not fit {array.shape}")
        for name, array in self.params.items():
            array[...] = params[name]

    def copy(self):
        twin = CNN(self.num_filters, dtype=self.dtype, deskew=self.deskew)
        twin.set_params(self.params)
        return twin

    def save(self, path):
        """Write the model to `path` (.npz) atomically; core.errors.ModelFileError on failure."""
        modelfile.save_params(path, self.params, deskew=self.deskew)

    @classmethod
    def load(cls, path, dtype=np.float32):
        """Read a model written by save(); core.errors.ModelFileError if the file is unfit."""
        params, deskew = modelfile.load_model_file(path)
        model = cls(num_filters=params["conv.filters"].shape[0], dtype=dtype, deskew=deskew)
        model.set_params(params)
        return model
