"""Jobs: everything, and one per stage group."""

import dagster as dg

ALL_ASSETS = dg.AssetSelection.all()

retrain_job = dg.define_asset_job("retrain_job", selection=ALL_ASSETS,
                                  description="Materialize a run end to end (market data to the last stage built).")
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

JOBS = [retrain_job, market_job, features_job, labels_job, models_job, trading_job, monitoring_job]
