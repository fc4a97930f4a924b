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
from infra.components.identity import Identity, IdentityArgs  # noqa: E402
from infra.components.messaging import Messaging, MessagingArgs  # noqa: E402
from infra.components.storage import Storage, StorageArgs  # noqa: E402
from infra.config import StackConfig  # noqa: E402

config = StackConfig.load()
account_id = aws.get_caller_identity().account_id
naming = config.naming(account_id if config.bucket_suffix is None else config.bucket_suffix)

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
messaging = Messaging("messaging", MessagingArgs(naming=naming))
identity = Identity(
    "identity",
    IdentityArgs(
        naming=naming,
        callback_urls=config.callback_urls,
        deletion_protection=config.deletion_protection,
    ),
)
api = Api(
    "api",
    ApiArgs(
        naming=naming,
        code=packaging.code_archive(),
        dependencies=packaging.dependency_archive(
            ROOT / config.lambda_layer_dir, config.lambda_architecture
        ),
        environment={
            "FLIXSTACK_STAGE": naming.stage,
            "FLIXSTACK_BUCKET_SUFFIX": naming.bucket_suffix,
            "FLIXSTACK_USER_POOL_ID": identity.user_pool_id,
        },
        table_arns=data.table_arns,
        bucket_arns=storage.bucket_arns,
        queue_arns=messaging.queue_arns,
        stream_arns=messaging.stream_arns,
        user_pool_arn=identity.user_pool_arn,
        kms_key_arns={"media": storage.media_key_arn},
        log_retention_days=config.log_retention_days,
        throttle_rate=config.api_throttle_rate,
        throttle_burst=config.api_throttle_burst,
        memory_mb=config.api_memory_mb,
        reserved_concurrency=config.api_reserved_concurrency,
        architecture=config.lambda_architecture,
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
pulumi.export(outputs.MEDIA_KEY_ARN, storage.media_key_arn)
