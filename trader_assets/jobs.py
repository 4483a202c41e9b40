"""Jobs: everything, and one per stage group."""

import dagster as dg

EXPERIMENTS = dg.AssetSelection.groups("experiments")
BUTTERFLY = dg.AssetSelection.groups("butterfly")
WALK_FORWARD = dg.AssetSelection.groups("walk_forward")
DECISION_MONITORING = dg.AssetSelection.groups("decision_monitoring")
PERP = dg.AssetSelection.all() - BUTTERFLY - WALK_FORWARD - DECISION_MONITORING

retrain_job = dg.define_asset_job("retrain_job", selection=PERP - EXPERIMENTS,
                                  description="Perp strategy, market data to release: everything except the "
                                              "experiments group.")
everything_job = dg.define_asset_job("everything_job", selection=PERP,
                                     description="The whole perp graph of a run: retrain_job plus the experiments.")
butterfly_job = dg.define_asset_job("butterfly_job", selection=BUTTERFLY,
                                    description="The butterfly strategy (runs with strategy: butterfly): daily market "
                                                "to release.")
experiments_job = dg.define_asset_job("experiments_job", selection=EXPERIMENTS,
                                      description="Diagnostics and experiments of a run (docs/experiments.md; needs "
                                                  "the "
                                                  "models group and pm_search). Never gates the release chain.")
market_job = dg.define_asset_job("market_job", selection=dg.AssetSelection.groups("market"),
                                 description="Raw market, replay and split manifest.")
features_job = dg.define_asset_job("features_job", selection=dg.AssetSelection.groups("features"),
                                   description="The feature frame (needs the market group materialized).")

labels_job = dg.define_asset_job("labels_job", selection=dg.AssetSelection.groups("labels"),
                                 description="Price plan, labels and train datasets (needs market and features).")

models_job = dg.define_asset_job("models_job", selection=dg.AssetSelection.groups("models"),
                                 description="Train and export the four models (needs the labels group).")

trading_job = dg.define_asset_job("trading_job", selection=dg.AssetSelection.groups("trading", "monitoring", "release"),
                                  description="PM search, backtest, monitoring (shadow scoring, drift, champion vs "
                                              "challenger) and promotion (needs the models group).")

monitoring_job = dg.define_asset_job("monitoring_job", selection=dg.AssetSelection.groups("monitoring"),
                                     description="Shadow scoring, drift and champion vs challenger of a run (needs "
                                                 "the models group and pm_search).")

walk_forward_job = dg.define_asset_job("walk_forward_job", selection=WALK_FORWARD,
                                      description="The walk-forward report of the home's retrain runs (run by "
                                                  "`trader walk-forward` after each walk).")

weekly_monitoring_job = dg.define_asset_job("weekly_monitoring_job", selection=DECISION_MONITORING,
                                           description="The weekly decision report: every line's decisions of the "
                                                       "last 30 days joined with their realized outcomes "
                                                       "(docs/decide.md, \"Weekly monitoring\").")

JOBS = [walk_forward_job, weekly_monitoring_job, retrain_job, everything_job, experiments_job, butterfly_job, market_job, features_job, labels_job, models_job, trading_job,
        monitoring_job]
