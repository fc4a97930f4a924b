"""``flixstack cost``: what a stack would cost a month on AWS, from its stack config, the
viewers' hours and AWS list prices recorded with their dates (``prices.toml``).

- :mod:`prices`: the price file, validated;
- :mod:`stack`: what of a stack's config changes the bill (price class, regions, sizes);
- :mod:`model`: usage from viewers and hours, and its cost line by line;
- :mod:`report`: the table and the plot.
"""
