"""The endpoint families, one module each: what they serve and how their numbers are made.

sessions, kpi (dau, mau, new_users, uninstalls), events, purchases and segments are scalar series
(`routes.ScalarSeries`); campaigns, sends and canvas serve nested day stats built from
`daystats`; each family also serves its list and details endpoints, paged by `listing`.
"""
