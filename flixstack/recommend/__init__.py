"""Recommendations: training and serving of personalized rows."""
