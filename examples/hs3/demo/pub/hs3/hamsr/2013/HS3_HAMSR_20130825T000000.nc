CDF HS3 HAMSR brightness temperatures, 2013-08-25 (demo)
