"""StackConfig fails fast on transcoding settings AWS would reject at deploy time."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import StackConfig


def _config(**changes: Any) -> StackConfig:
    return StackConfig(stage="dev", region="us-east-1", bucket_suffix=None, **changes)


def test_defaults_are_valid() -> None:
    config = _config()
    assert config.transcode_memory_mb == 8192
    assert config.transcode_ephemeral_storage_gib >= 50
    assert config.transcode_subnet_ids == ()
    assert config.transcoder_image_tag is None


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"transcode_memory_mb": 2048}, "transcodeMemoryMb"),  # below 2 vCPU's minimum
        ({"transcode_memory_mb": 5000}, "transcodeMemoryMb"),  # not a 1024 step
        ({"transcode_ephemeral_storage_gib": 21}, "transcodeEphemeralStorageGib"),
        ({"transcode_ephemeral_storage_gib": 201}, "transcodeEphemeralStorageGib"),
        ({"transcode_subnet_ids": ("subnet-a",)}, "transcodeSecurityGroupIds"),
        ({"transcode_security_group_ids": ("sg-1",)}, "transcodeSubnetIds"),
        ({"transcode_dispatch_concurrency": 1}, "transcodeDispatchConcurrency"),
        ({"transcoder_image_tag": "latest"}, "transcoderImageTag"),
        ({"transcoder_image_tag": "has space"}, "transcoderImageTag"),
    ],
)
def test_bad_transcoding_settings_fail_fast(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        _config(**changes)


def test_given_network_is_accepted() -> None:
    config = _config(
        transcode_subnet_ids=("subnet-a", "subnet-b"),
        transcode_security_group_ids=("sg-1",),
        transcode_assign_public_ip=False,
    )
    assert config.transcode_subnet_ids == ("subnet-a", "subnet-b")
