// The minkms protobuf schema (package minio.kms; minkms.md §4.3), written from the field table and
// parsed at load time with protobufjs (no codegen step). Field numbers and types are what matter
// on the wire; names are snake_case here so protobufjs exposes them in lowerCamelCase.
import protobuf from 'protobufjs'

/** The schema as .proto text. Field numbers follow the SDK's request/response/rule .proto files. */
export const MINKMS_PROTO = `
syntax = "proto3";
package minio.kms;

import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";

message ErrResponse { string message = 1; }

message VersionResponse {
  string version = 1;
  string commit = 2;
  string api_version = 3;
  string host = 4;
  bool fips140 = 5;
}

message ServerStatusResponse {
  string version = 1;
  string api_version = 2;
  string host = 3;
  google.protobuf.Duration up_time = 4;
  string role = 5;
  uint64 commit = 6;
  map<uint32, string> nodes = 7;
  uint32 id = 8;
  sint64 leader_id = 9;
  google.protobuf.Duration last_heartbeat = 10;
  google.protobuf.Duration heartbeat_interval = 11;
  google.protobuf.Duration election_timeout = 12;
  string os = 13;
  string arch = 14;
  uint32 cpus = 15;
  uint32 usable_cpus = 16;
  uint64 heap_mem_in_use = 17;
  uint64 stack_mem_in_use = 18;
  repeated string hsms = 19;
  repeated string configured_hsms = 20;
}

message ClusterStatusRequest {}

message ClusterStatusResponse {
  map<uint32, ServerStatusResponse> nodes_up = 1;
  map<uint32, string> nodes_down = 2;
}

message AddClusterNodeRequest { string host = 1; }
message RemoveClusterNodeRequest { string host = 1; bool delete_cluster_on_host = 2; }
message EditClusterRequest { string host = 1; repeated uint32 remove_ids = 2; }
message AddHSMRequest { string name = 1; bool overwrite = 2; }
message RemoveHSMRequest { string name = 1; }

message ListRequest { string prefix = 1; string continue_at = 2; uint32 limit = 3; }

message CreateEnclaveRequest { string name = 1; }
message DeleteEnclaveRequest { string name = 1; }
message EnclaveStatusRequest { string name = 1; }
message EnclaveStatusResponse {
  string name = 1;
  google.protobuf.Timestamp created_at = 2;
  string created_by = 3;
}
message ListEnclavesResponse { repeated EnclaveStatusResponse enclaves = 1; string continue_at = 2; }

message CreateKeyRequest { string name = 1; string type = 2; bool add_version = 3; }
message DeleteKeyRequest { string name = 1; uint32 version = 2; bool all_versions = 3; }
message ImportKeyRequest { string name = 1; string type = 2; bytes key = 3; }
message KeyStatusRequest { string name = 1; uint32 version = 2; }
message KeyStatusResponse {
  string name = 1;
  uint32 version = 2;
  string type = 3;
  google.protobuf.Timestamp created_at = 4;
  string created_by = 5;
}
message ListKeysResponse { repeated KeyStatusResponse keys = 1; string continue_at = 2; }

message EncryptRequest { string name = 1; uint32 version = 2; bytes plaintext = 3; bytes associated_data = 4; }
message EncryptResponse { uint32 version = 1; bytes ciphertext = 2; }
message DecryptRequest { string name = 1; uint32 version = 2; bytes ciphertext = 3; bytes associated_data = 4; }
message DecryptResponse { bytes plaintext = 1; }
message GenerateKeyRequest { string name = 1; uint32 version = 2; bytes associated_data = 3; uint32 length = 4; }
message GenerateKeyResponse { uint32 version = 1; bytes plaintext = 2; bytes ciphertext = 3; }
message MACRequest { string name = 1; uint32 version = 2; bytes message = 3; }
message MACResponse { uint32 version = 1; bytes mac = 2; }

message Rule {}
message RuleSet { map<string, Rule> rules = 1; }

message CreatePolicyRequest { string name = 1; map<string, RuleSet> allow = 2; map<string, RuleSet> deny = 3; }
message DeletePolicyRequest { string name = 1; }
message AssignPolicyRequest { string identity = 1; string policy = 2; }
message PolicyRequest { string name = 1; }
message PolicyResponse {
  string name = 1;
  map<string, RuleSet> allow = 2;
  map<string, RuleSet> deny = 3;
  google.protobuf.Timestamp created_at = 4;
  string created_by = 5;
}
message PolicyStatusResponse {
  string name = 1;
  google.protobuf.Timestamp created_at = 4;
  string created_by = 5;
}
message ListPoliciesResponse { repeated PolicyStatusResponse policies = 1; string continue_at = 2; }

message CreateIdentityRequest {
  string identity = 1;
  string privilege = 2;
  bool is_service_account = 3;
  map<string, string> tags = 4;
}
message DeleteIdentityRequest { string identity = 1; }
message IdentityRequest { string identity = 1; }
message IdentityResponse {
  string identity = 1;
  uint32 privilege = 2;
  string policy = 3;
  google.protobuf.Timestamp created_at = 4;
  string created_by = 5;
  bool is_service_account = 6;
  repeated string service_accounts = 7;
  map<string, string> tags = 8;
}
message ListIdentitiesResponse { repeated IdentityResponse identities = 1; string continue_at = 2; }
`

/** The resolved protobufjs root holding package `minio.kms` and the well-known types it imports. */
export const minkmsRoot: protobuf.Root = loadRoot()

function loadRoot (): protobuf.Root {
  const root = new protobuf.Root()
  const parsed = protobuf.parse(MINKMS_PROTO, root)
  // protobuf.parse does not follow imports; the google/protobuf ones ship with protobufjs.
  for (const file of parsed.imports ?? []) {
    const json = protobuf.common.get(file)
    if (json === null) throw new Error(`protobufjs has no bundled ${file}`)
    root.addJSON(json.nested ?? {})
  }
  root.resolveAll()
  return root
}
