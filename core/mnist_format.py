"""What an MNIST digit is and the files MNIST comes in: the facts every other module takes from here.

An image is IMAGE_SHAPE uint8, ink high (0 paper .. 255 ink); its label is one of NUM_CLASSES
digits. MNIST moved each digit so that its centre of mass sits on CENTRE (measured over the
60,000 training digits: mean 14.00, spread +-0.5 from MNIST's whole-pixel shift); the
preprocessing of drawings and the augmentation of training digits both use that point.

The network's layers shrink a digit by fixed amounts (core.layers: a "valid" 3x3 convolution, then
2x2 max-pooling): CONV_SIDE and POOLED_SIDE are the sides of its feature maps and pooled maps, kept
here beside IMAGE_SIDE for the network, its model files and the views of its insides alike.
"""

IMAGE_SIDE = 28                          # pixels, rows and columns
IMAGE_SHAPE = (IMAGE_SIDE, IMAGE_SIDE)
NUM_CLASSES = 10                         # the digits 0..9
CENTRE = 14.0                            # row and column index of each digit's centre of mass
CONV_SIDE = IMAGE_SIDE - 2               # 26: a 3x3 window fits 26 times along each side
POOLED_SIDE = CONV_SIDE // 2             # 13: the output layer reads POOLED_SIDE**2 * F numbers

# The four files of full MNIST (gzipped IDX), per split: (images, labels).
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
SPLIT_FILES = {"train": (TRAIN_IMAGES, TRAIN_LABELS), "test": (TEST_IMAGES, TEST_LABELS)}
MNIST_FILES = tuple(name for names in SPLIT_FILES.values() for name in names)
