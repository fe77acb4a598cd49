"""diffusers → original (LDM) key layout: the converters live in rotoscope.models.ldm (the zoo uses them too)."""

from rotoscope.models.ldm import pipeline_to_ldm, unet_to_ldm, vae_to_ldm  # noqa: F401
