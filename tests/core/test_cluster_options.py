"""``--cluster`` options without Ray: path maps and where the photos go."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from photoseek.core.cluster import ClusterOptions, parse_path_map


def test_path_map_maps_files_under_the_local_folder_only() -> None:
    mapping = parse_path_map("/mnt/nas/photos=/data/photos")
    assert mapping.remote_path(PurePath("/mnt/nas/photos/2024/a.jpg")) == "/data/photos/2024/a.jpg"
    assert mapping.remote_path(PurePath("/mnt/nas/other/a.jpg")) is None


@pytest.mark.parametrize("text", ["/a", "=/b", "/a=", "relative=/b", "/a=relative"])
def test_bad_path_maps_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="path map"):
        parse_path_map(text)


def test_first_matching_map_wins_and_others_are_sent() -> None:
    options = ClusterOptions("auto", (parse_path_map("/p/a=/w/a"), parse_path_map("/p=/w/root")))
    assert options.remote_path(PurePath("/p/a/x.jpg")) == "/w/a/x.jpg"
    assert options.remote_path(PurePath("/p/b/x.jpg")) == "/w/root/b/x.jpg"
    assert options.remote_path(PurePath("/elsewhere/x.jpg")) is None


def test_destination_says_where_photos_go() -> None:
    assert "127.0.0.1" in ClusterOptions("local").destination()
    assert "ray://gpu:10001" in ClusterOptions("ray://gpu:10001").destination()
    assert "object store" in ClusterOptions("auto").destination()
    assert "own mounts" in ClusterOptions("auto", (parse_path_map("/a=/b"),)).destination()


def test_model_batch_is_larger_on_a_gpu_unless_given() -> None:
    assert ClusterOptions("auto").model_batch_size(32) == 32
    assert ClusterOptions("auto", gpus_per_actor=1).model_batch_size(32) == 128
    assert ClusterOptions("auto", gpus_per_actor=1, batch_size=64).model_batch_size(32) == 64
