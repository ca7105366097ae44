-- One database per service: no service reads another's tables.
CREATE DATABASE wenming_centers;
CREATE DATABASE wenming_gateway;
