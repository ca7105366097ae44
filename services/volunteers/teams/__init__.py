"""Teams (志愿服务队): created under a center, joined on approval, with rosters."""
