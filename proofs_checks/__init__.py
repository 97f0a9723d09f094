"""Claims of the paper, each checked symbolically and numerically, with certificates."""
