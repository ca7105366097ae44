-- Generated from services/registry.py by `python -m deploy.render` (make deploy-files):
-- edit the registry or deploy/render.py, not this file.
-- One database per service: no service reads another's tables.
CREATE DATABASE wenming_centers;
CREATE DATABASE wenming_identity;
CREATE DATABASE wenming_volunteers;
CREATE DATABASE wenming_activities;
