"""Reading back what Beat stores: time series and growth of profiles' metrics, leaderboards."""
