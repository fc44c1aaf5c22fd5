"""The Redis side of scale-out (docs/scale-out.md): key names, the Lua scripts, and the
translation between a stream entry and the store's ``TenantState``/``Change``.

Each script runs atomically in Redis, so the leader's lease check, the revision it assigns,
the tenant hash, the change stream and the history stream move together or not at all.
Nothing here does I/O: ``redis_broker.py`` runs the scripts on its connections.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..core.documents import JSONObject
from ..core.errors import InvalidDocument
from ..core.store import Change, ChangeType, TenantState, diff, freeze, utc_timestamp

#: Entries kept in ``<ns>:changes`` (approximately: ``XADD … MAXLEN ~``).
STREAM_MAXLEN = 10000

#: Renew the lease only while it is still ours (the value is our fencing token).
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

#: Compare-and-delete: release a lock (or a lease) only if it still holds our token.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

#: A consistent view for a follower: the epoch, the change stream's last id, its first id
#: (to tell whether a resume id is still held), then every tenant hash (id, field list…).
READ_STATE = """
local out = {redis.call('GET', KEYS[1]) or '', '0-0', ''}
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if last[1] then out[2] = last[1][1] end
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if first[1] then out[3] = first[1][1] end
for _, t in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  table.insert(out, t)
  table.insert(out, redis.call('HGETALL', ARGV[1] .. t))
end
return out
"""

#: The leader's publish of one tenant's state as read from the files. KEYS: leader, tenant
#: hash, changes stream, tenant set, epoch, history stream, write expectation, revision
#: index. ARGV: token, tenant, valid, exists, checksum, config, error, timestamp, source,
#: stream maxlen, history max revisions (0: no limit), document, file, history max age ms
#: (0: forever), history on. Refuses a stale token (fencing); classifies against the SHARED
#: state, so publishing a state equal to it is a no-op (a new leader's rescan publishes
#: differences). The history entry also keeps the tenant's document, its file and the
#: previous revision's config (``prev``, for the patch); the index maps each revision to its
#: entry; retention trims the stream by ``MINID``, never past the current revision's entry.
PUBLISH = """
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
local epoch = redis.call('GET', KEYS[5])
if not epoch then return {'noepoch'} end
local h = KEYS[2]
local rev = tonumber(redis.call('HGET', h, 'revision') or '0')
local cur = redis.call('HGET', h, 'checksum') or ''
local curerr = redis.call('HGET', h, 'error') or ''
local prev = redis.call('HGET', h, 'config') or ''
local valid, exists, checksum, config, err = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local kind
if valid == '0' then
  if curerr == err then return {'same', rev} end
  kind = 'invalid'
  redis.call('HSET', h, 'valid', '0', 'error', err, 'exists', '1', 'revision', rev,
             'checksum', cur)
  checksum = cur
  config = ''
elseif checksum == cur then
  if curerr == '' then return {'same', rev} end
  kind = 'recovered'
  redis.call('HSET', h, 'valid', '1', 'error', '', 'exists', exists)
  config = ''
else
  if checksum == '' then kind = 'deleted' elseif cur == '' then kind = 'created'
  else kind = 'modified' end
  rev = rev + 1
  redis.call('HSET', h, 'revision', rev, 'checksum', checksum, 'config', config, 'valid', '1',
             'error', '', 'exists', exists, 'timestamp', ARGV[8])
end
local source, actor = ARGV[9], ''
local expected = redis.call('GET', KEYS[7])
if expected and (kind == 'created' or kind == 'modified' or kind == 'deleted') then
  local sep = string.find(expected, '\\n', 1, true)
  source = string.sub(expected, 1, sep - 1)
  actor = string.sub(expected, sep + 1)
  redis.call('DEL', KEYS[7])
end
redis.call('SADD', KEYS[4], ARGV[2])
local fields = {'tenant', ARGV[2], 'type', kind, 'revision', rev, 'epoch', epoch,
                'checksum', checksum, 'config', config, 'error', err, 'timestamp', ARGV[8],
                'source', source, 'actor', actor, 'term', ARGV[1]}
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[10], '*', unpack(fields))
if ARGV[15] ~= '1' then return {kind, rev, id} end
local revision = kind == 'created' or kind == 'modified' or kind == 'deleted'
table.insert(fields, 'document')
table.insert(fields, revision and ARGV[12] or '')
table.insert(fields, 'file')
table.insert(fields, ARGV[13])
table.insert(fields, 'prev')
table.insert(fields, revision and prev or '')
local hid = redis.call('XADD', KEYS[6], '*', unpack(fields))
if revision then redis.call('HSET', KEYS[8], rev, hid) end
local keep = redis.call('HGET', KEYS[8], tostring(rev))
if not keep then return {kind, rev, id} end
local cut = '0-0'
local maxrev, maxage = tonumber(ARGV[11]), tonumber(ARGV[14])
if maxrev > 0 and rev - maxrev >= 1 then
  cut = redis.call('HGET', KEYS[8], tostring(rev - maxrev + 1)) or cut
end
if maxage > 0 then
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - maxage
  local agecut = string.format('%.0f', ms) .. '-0'
  if older(cut, agecut) then cut = agecut end
end
if older(keep, cut) then cut = keep end
if cut ~= '0-0' then
  redis.call('XTRIM', KEYS[6], 'MINID', cut)
  local low = tonumber(redis.call('HGET', KEYS[8], 'low') or '1')
  while low < rev do
    local at = redis.call('HGET', KEYS[8], tostring(low))
    if at and not older(at, cut) then break end
    if at then redis.call('HDEL', KEYS[8], tostring(low)) end
    low = low + 1
  end
  redis.call('HSET', KEYS[8], 'low', low)
end
return {kind, rev, id}
"""


@dataclass(frozen=True)
class Keys:
    """Every key of one group of servers, under ``namespace``."""

    namespace: str

    def __getattr__(self, name: str) -> str:  # leader, epoch, term, changes, tenants
        if name.startswith("_"):
            raise AttributeError(name)
        return f"{self.namespace}:{name}"

    @property
    def tenant_prefix(self) -> str:
        return f"{self.namespace}:tenant:"

    def tenant(self, tenant_id: str) -> str:
        return self.tenant_prefix + tenant_id

    def history(self, tenant_id: str) -> str:
        return f"{self.namespace}:history:{tenant_id}"

    def revisions(self, tenant_id: str) -> str:
        """Revision number → its entry id in ``history(tenant_id)`` (and ``low``: the oldest
        revision still indexed)."""
        return f"{self.namespace}:revisions:{tenant_id}"

    def lock(self, tenant_id: str) -> str:
        return f"{self.namespace}:lock:{tenant_id}"

    def expect(self, tenant_id: str, checksum: str | None) -> str:
        return f"{self.namespace}:expect:{tenant_id}:{checksum or ''}"


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class HistoryArgs:
    """What the publish script keeps in the history: the document and file the leader loaded
    for the state's checksum (None when unknown), and the retention settings."""

    document: JSONObject | None = None
    file: str | None = None
    max_revisions: int = 0
    max_age_days: float = 0.0
    enabled: bool = True


def publish_args(state: TenantState, token: str, source: str, history: HistoryArgs) -> list[Any]:
    """ARGV of ``PUBLISH`` for ``state`` (a tenant as the leader's files make it)."""
    error = _json(state.error.to_dict()) if state.error is not None else ""
    file = history.file or (state.error.file if state.error is not None else None)
    return [
        token, state.tenant_id, "1" if state.valid else "0", "1" if state.exists else "0",
        state.checksum or "", _json(state.config), error, utc_timestamp(), source,
        STREAM_MAXLEN, max(history.max_revisions, 0), _json(history.document), file or "",
        int(max(history.max_age_days, 0.0) * 86_400_000), "1" if history.enabled else "0",
    ]


def _error(raw: str) -> InvalidDocument | None:
    if not raw:
        return None
    data = json.loads(raw)
    return InvalidDocument(data.pop("message", ""), **data)


def state_from_hash(tenant_id: str, fields: dict[str, str]) -> TenantState:
    """A tenant's shared state, from its hash ``<ns>:tenant:<t>``."""
    config = fields.get("config") or ""
    return TenantState(
        tenant_id, int(fields.get("revision") or 0), fields.get("checksum") or None,
        freeze(json.loads(config)) if config else None,
        exists=fields.get("exists", "1") == "1", valid=fields.get("valid", "1") == "1",
        error=_error(fields.get("error", "")), last_change=fields.get("timestamp") or None,
    )


def change_from_entry(fields: dict[str, str], before: TenantState | None) -> tuple[
        Change, TenantState]:
    """The ``Change`` a stream entry means to a server whose store holds ``before``, and the
    state after it. The patch is computed here, against what this server's clients have."""
    tenant_id = fields["tenant"]
    kind = ChangeType(fields["type"])
    old: JSONObject | None = before.config if before is not None else None
    error = _error(fields.get("error", ""))
    revision = int(fields["revision"])
    checksum = fields.get("checksum") or None
    timestamp = fields.get("timestamp") or utc_timestamp()
    if kind in (ChangeType.CREATED, ChangeType.MODIFIED, ChangeType.DELETED):
        raw = fields.get("config") or ""
        new = freeze(json.loads(raw)) if raw else None
        patch, paths = diff(old, new)
        state = TenantState(tenant_id, revision, checksum, new, exists=new is not None,
                            valid=True, error=None, last_change=timestamp)
    else:
        new, patch, paths = old, [], []
        last = before.last_change if before is not None else None
        state = TenantState(tenant_id, revision, checksum, old,
                            exists=True if kind is ChangeType.INVALID else (
                                before.exists if before is not None else False),
                            valid=kind is ChangeType.RECOVERED, error=error, last_change=last)
    change = Change(
        tenant_id=tenant_id, change_type=kind, revision=revision, epoch=fields["epoch"],
        checksum=checksum, timestamp=timestamp, old=old, new=new, patch=patch,
        changed_paths=paths, error=error, source=fields.get("source") or None,
        actor=fields.get("actor") or None,
    )
    return change, state


def stream_ms(entry_id: str) -> int:
    """The Redis server's clock (ms) when it added the entry: the first part of its id."""
    return int(entry_id.split("-", 1)[0])
