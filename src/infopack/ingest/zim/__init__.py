"""Reading ZIM files (Kiwix) without libzim: the format reader and the conversion to imported articles."""
