"""The sandbox's images for the assets worker: generated photos, a page with og:image, and
hostile answers (redirects to private addresses, endless bodies, mislabelled and broken
images, a decompression bomb)."""
