"""AugmentConfig refuses ranges that cannot work, naming the rule, and accepts the edges that can."""
import pytest

from core.augment import AugmentConfig


@pytest.mark.parametrize("settings, message", [
    ({"untouched_share": -0.01}, "untouched_share must be between 0 and 1"),
    ({"untouched_share": 1.01}, "untouched_share must be between 0 and 1"),
    ({"thicken_share": 0.6, "thin_share": 0.41}, "thicken_share \\+ thin_share must not exceed 1"),
    ({"min_strength": -0.1}, "need 0 <= min_strength <= max_strength <= 1"),
    ({"min_strength": 0.6, "max_strength": 0.5}, "need 0 <= min_strength <= max_strength <= 1"),
    ({"max_strength": 1.01}, "need 0 <= min_strength <= max_strength <= 1"),
    ({"max_shift": -1}, "augmentation ranges and shares must not be negative"),
    ({"max_scale_change": -0.1}, "augmentation ranges and shares must not be negative"),
    ({"max_aspect_change": -0.1}, "augmentation ranges and shares must not be negative"),
    ({"max_rotation": -1}, "augmentation ranges and shares must not be negative"),
    ({"max_shear": -0.1}, "augmentation ranges and shares must not be negative"),
    ({"thicken_share": -0.1}, "augmentation ranges and shares must not be negative"),
    ({"thin_share": -0.1}, "augmentation ranges and shares must not be negative"),
    ({"wobble": -0.1}, "augmentation ranges and shares must not be negative"),
    ({"max_scale_change": 1.0}, "max_scale_change and max_aspect_change must be below 1"),
    ({"max_aspect_change": 1.0}, "max_scale_change and max_aspect_change must be below 1"),
])
def test_impossible_ranges_are_refused_with_the_rule(settings, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        AugmentConfig(**settings)


@pytest.mark.parametrize("settings", [
    {"untouched_share": 0.0}, {"untouched_share": 1.0},
    {"thicken_share": 0.6, "thin_share": 0.4},
    {"min_strength": 0.0, "max_strength": 0.0}, {"min_strength": 1.0, "max_strength": 1.0},
    {"max_shift": 0, "max_scale_change": 0, "max_aspect_change": 0, "max_rotation": 0, "max_shear": 0,
     "thicken_share": 0, "thin_share": 0, "wobble": 0},
    {"max_scale_change": 0.99, "max_aspect_change": 0.99},
])
def test_the_edges_of_every_range_are_accepted(settings):
    AugmentConfig(**settings)
