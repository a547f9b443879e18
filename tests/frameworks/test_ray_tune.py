"""Ray Tune's `WandbLoggerCallback` (one run per trial, logged from Ray's logging actor)."""

from conftest import run_script


def test_ray_tune_logger_callback(tmp, online_env, api):
    run_script(
        tmp,
        f"""
        import ray
        from ray import tune
        from ray.air.integrations.wandb import WandbLoggerCallback

        def trainable(config):
            for i in range(3):
                tune.report({{"score": config["x"] * (i + 1)}})

        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
        tuner = tune.Tuner(trainable, param_space={{"x": tune.grid_search([1, 2])}},
                           run_config=tune.RunConfig(storage_path="{tmp}/ray", name="exp",
                               callbacks=[WandbLoggerCallback(project="ray")]))
        tuner.fit()
        ray.shutdown()
    """,
        env=online_env,
        timeout=600,
    )
    runs = list(api.runs("admin/ray"))
    assert len(runs) == 2
    seen = {}
    for run in runs:
        x = run.config["x"]
        rows = list(run.scan_history(keys=["score", "training_iteration"]))
        assert [r["training_iteration"] for r in rows] == [1, 2, 3]
        seen[x] = [r["score"] for r in rows]
    assert seen == {1: [1, 2, 3], 2: [2, 4, 6]}
