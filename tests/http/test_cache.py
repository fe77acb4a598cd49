"""Consecutive requests with the same model reuse its pipeline: counted by the server's own counter, in process."""

from __future__ import annotations

import webuiapi

from rotoscope import api
from rotoscope.http.app import serve_in_thread
from rotoscope.http.config import ServeConfig
from tests.servers import free_port

from .test_sdapi import LOOK, scene


def test_a_second_request_does_not_load_the_model_again(models_dir, tmp_path):
    config = ServeConfig(port=free_port(), jobs_dir=tmp_path / "jobs", models_dir=models_dir)
    server = serve_in_thread(config)
    try:
        c = webuiapi.WebUIApi(port=config.port, sampler="Euler a", steps=3)
        c.img2img(images=[scene()], denoising_strength=0.5, width=64, height=64, **LOOK)
        loaded = api.pipeline_cache_stats()
        for _ in range(2):
            c.img2img(images=[scene()], denoising_strength=0.5, width=64, height=64, **LOOK)
            c.img2img(images=[scene()], denoising_strength=0.5, width=64, height=64, batch_size=2, **LOOK)
        again = api.pipeline_cache_stats()
        assert again["builds"] == loaded["builds"] and again["hits"] == loaded["hits"] + 6  # one per image
        c.img2img(images=[scene()], width=64, height=64, override_settings={"sd_model_checkpoint": "mini"}, **LOOK)
        assert api.pipeline_cache_stats()["builds"] == loaded["builds"] + 1  # another model is loaded once
        assert api.pipeline_cache_stats()["kept"] <= 2
    finally:
        server.should_exit = True
