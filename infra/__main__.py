"""The flixstack Pulumi program: reads the stack config once and wires the components."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # Pulumi runs this file with infra/ as the program directory
    sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402

from infra import outputs, packaging  # noqa: E402
from infra.components.api import Api, ApiArgs  # noqa: E402
from infra.components.data import Data, DataArgs  # noqa: E402
from infra.components.function import PythonRuntime, PythonRuntimeArgs  # noqa: E402
from infra.components.identity import Identity, IdentityArgs  # noqa: E402
from infra.components.messaging import Messaging, MessagingArgs  # noqa: E402
from infra.components.storage import Storage, StorageArgs  # noqa: E402
from infra.components.transcoding import Transcoding, TranscodingArgs  # noqa: E402
from infra.config import StackConfig  # noqa: E402

config = StackConfig.load()
account_id = aws.get_caller_identity().account_id
naming = config.naming(account_id if config.bucket_suffix is None else config.bucket_suffix)
runtime_environment = {
    "FLIXSTACK_STAGE": naming.stage,
    "FLIXSTACK_BUCKET_SUFFIX": naming.bucket_suffix,
}
code = packaging.code_archive()
python = PythonRuntime(
    "python",
    PythonRuntimeArgs(
        naming=naming,
        dependencies=packaging.dependency_archive(
            ROOT / config.lambda_layer_dir, config.lambda_architecture
        ),
        architecture=config.lambda_architecture,
    ),
)

storage = Storage(
    "storage",
    StorageArgs(
        naming=naming,
        account_id=account_id,
        ingest_glacier_days=config.ingest_glacier_days,
        noncurrent_expiry_days=config.noncurrent_expiry_days,
        log_retention_days=config.log_retention_days,
        force_destroy=config.force_destroy,
    ),
)
data = Data("data", DataArgs(naming=naming, deletion_protection=config.deletion_protection))
messaging = Messaging(
    "messaging",
    MessagingArgs(
        naming=naming,
        account_id=account_id,
        bucket_names=storage.bucket_names,
        bucket_arns=storage.bucket_arns,
    ),
)
identity = Identity(
    "identity",
    IdentityArgs(
        naming=naming,
        region=config.region,
        callback_urls=config.callback_urls,
        deletion_protection=config.deletion_protection,
    ),
)
# Which pool and clients' tokens the API accepts (it verifies them itself too, behind the
# HTTP API's JWT authorizer).
identity_environment = {
    "FLIXSTACK_USER_POOL_ID": identity.user_pool_id,
    "FLIXSTACK_USER_POOL_CLIENT_IDS": pulumi.Output.json_dumps(identity.client_ids),
}
api = Api(
    "api",
    ApiArgs(
        naming=naming,
        code=code,
        layer_arn=python.layer_arn,
        environment={**runtime_environment, **identity_environment},
        table_arns=data.table_arns,
        bucket_arns=storage.bucket_arns,
        queue_arns=messaging.queue_arns,
        stream_arns=messaging.stream_arns,
        user_pool_arn=identity.user_pool_arn,
        issuer=identity.issuer,
        client_ids=identity.client_ids,
        kms_key_arns={"media": storage.media_key_arn},
        log_retention_days=config.log_retention_days,
        throttle_rate=config.api_throttle_rate,
        throttle_burst=config.api_throttle_burst,
        memory_mb=config.api_memory_mb,
        reserved_concurrency=config.api_reserved_concurrency,
        architecture=config.lambda_architecture,
    ),
)
transcoding = Transcoding(
    "transcoding",
    TranscodingArgs(
        naming=naming,
        region=config.region,
        code=code,
        layer_arn=python.layer_arn,
        environment=runtime_environment,
        bucket_arns=storage.bucket_arns,
        table_arns=data.table_arns,
        queue_arns=messaging.queue_arns,
        media_key_arn=storage.media_key_arn,
        image_tag=config.transcoder_image_tag or packaging.image_tag(),
        log_retention_days=config.log_retention_days,
        memory_mb=config.transcode_memory_mb,
        ephemeral_storage_gib=config.transcode_ephemeral_storage_gib,
        spot=config.transcode_spot,
        dispatch_concurrency=config.transcode_dispatch_concurrency,
        lambda_architecture=config.lambda_architecture,
        subnet_ids=config.transcode_subnet_ids,
        security_group_ids=config.transcode_security_group_ids,
        assign_public_ip=config.transcode_assign_public_ip,
        force_destroy=config.force_destroy,
    ),
)

pulumi.export(outputs.STAGE, naming.stage)
pulumi.export(outputs.REGION, config.region)
pulumi.export(outputs.API_URL, api.url)
pulumi.export(outputs.API_FUNCTION, api.function_name)
pulumi.export(outputs.TABLES, data.table_names)
pulumi.export(outputs.BUCKETS, storage.bucket_names)
pulumi.export(outputs.QUEUES, messaging.queue_urls)
pulumi.export(outputs.STREAMS, messaging.stream_names)
pulumi.export(outputs.USER_POOL_ID, identity.user_pool_id)
pulumi.export(outputs.WEB_CLIENT_ID, identity.web_client_id)
pulumi.export(outputs.CLI_CLIENT_ID, identity.cli_client_id)
pulumi.export(outputs.HOSTED_UI_URL, identity.hosted_ui_url)
pulumi.export(outputs.MEDIA_KEY_ARN, storage.media_key_arn)
pulumi.export(outputs.TRANSCODER_REPOSITORY, transcoding.repository_url)
pulumi.export(outputs.TRANSCODER_IMAGE, transcoding.image)
pulumi.export(outputs.TRANSCODE_CLUSTER, transcoding.cluster_name)
pulumi.export(outputs.TRANSCODE_TASK_DEFINITION, transcoding.task_definition_arn)
pulumi.export(outputs.TRANSCODE_LOG_GROUP, transcoding.log_group_name)
pulumi.export(outputs.TRANSCODE_DISPATCH_FUNCTION, transcoding.dispatch_function_name)
pulumi.export(outputs.TRANSCODE_RETRY_FUNCTION, transcoding.retry_function_name)
pulumi.export(outputs.TRANSCODE_SUBNETS, transcoding.subnet_ids)
pulumi.export(outputs.TRANSCODE_SECURITY_GROUPS, transcoding.security_group_ids)
