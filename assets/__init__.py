"""digitpad's data files, shipped inside the package: model.npz (the pretrained network) and
mnist-sample/ (10,000 + 2,000 real MNIST images and their ATTRIBUTION.md). No code lives here;
core.paths finds this folder through importlib.resources, in a checkout and in an installed wheel alike.
"""
