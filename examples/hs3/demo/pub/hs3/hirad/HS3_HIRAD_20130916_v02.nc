CDF HS3 HIRAD wind speed, 2013-09-16 (demo)
