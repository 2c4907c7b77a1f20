"""Reading data from disk, shared by training, evaluation and the command line.

``boxes`` parses box files; ``frames`` finds a sequence's frames, whether they are stored as
image files or as a video file (decoded once into a local frame cache, see ``video_cache``).
"""

from .boxes import read_box_file, read_flags
from .frames import IMAGE_SUFFIXES, VIDEO_SUFFIXES, list_images, sequence_frames, sequence_names, keep_names
from .video_cache import decode_video, frame_cache_root

__all__ = ["read_box_file", "read_flags", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "list_images", "sequence_frames",
           "sequence_names", "keep_names", "decode_video", "frame_cache_root"]
