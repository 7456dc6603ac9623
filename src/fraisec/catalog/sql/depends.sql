-- Every dependency edge between user objects, in one query. A view's _RETURN rule is reported as
-- its view (other rules are objects of their own), column defaults as their column, a domain's
-- constraints as their domain, row types as their relation and array types as their element
-- type, so that the introspector can map both ends to catalog objects by oid; a referenced
-- object that belongs to an extension is reported with the extension's oid.
-- Unordered: the introspector sorts the mapped edges itself (sorting here spilled to disk).
-- Column names come from user relations' columns only (oids >= 16384: both ends of every edge
-- here are user objects), joined for the dependent and the referenced end. NOT MATERIALIZED:
-- in a database just created the catalog statistics are stale, and a materialized CTE (no
-- index) under a nested loop took 20 s at 500 tables; inlined, the planner keeps the index.
with cols as not materialized (
  select attrelid, attnum, attname from pg_attribute where attrelid >= 16384 and attnum > 0
)
select
  case when rw.oid is not null or e.classid = 'pg_attrdef'::regclass then 'pg_class'
       when dc.oid is not null then 'pg_type'
       else e.classid::regclass::text end as classid,
  coalesce(rw.ev_class, ad.adrelid, dc.contypid, e.objid) as objid,
  case when t.typrelid <> 0 and tc.relkind <> 'c' then 'pg_class'
       when t.typelem <> 0 and t.typcategory = 'A' then 'pg_type'
       else e.refclassid::regclass::text end as refclassid,
  case when t.typrelid <> 0 and tc.relkind <> 'c' then t.typrelid
       when t.typelem <> 0 and t.typcategory = 'A' then t.typelem
       else e.refobjid end as refobjid,
  e.deptype,
  da.attname::text as column_name,
  ra.attname::text as ref_column_name,
  coalesce(x.refobjid, 0) as ref_extension_oid
from pg_depend e
left join pg_rewrite rw on e.classid = 'pg_rewrite'::regclass and rw.oid = e.objid
       and rw.rulename = '_RETURN'
left join pg_attrdef ad on e.classid = 'pg_attrdef'::regclass and ad.oid = e.objid
left join pg_constraint dc on e.classid = 'pg_constraint'::regclass and dc.oid = e.objid
       and dc.contypid <> 0
left join cols da on e.classid in ('pg_class'::regclass, 'pg_attrdef'::regclass)
       and da.attrelid = coalesce(ad.adrelid, e.objid) and da.attnum = coalesce(ad.adnum, e.objsubid)
left join pg_type t on e.refclassid = 'pg_type'::regclass and t.oid = e.refobjid
left join pg_class tc on tc.oid = t.typrelid
left join cols ra on e.refclassid = 'pg_class'::regclass and e.refobjsubid > 0
       and ra.attrelid = e.refobjid and ra.attnum = e.refobjsubid
left join pg_depend x on x.classid = e.refclassid and x.objid = e.refobjid and x.deptype = 'e'
where e.deptype in ('n', 'a') and e.objid >= 16384 and e.refobjid >= 16384
  and coalesce(rw.ev_class, ad.adrelid, dc.contypid, e.objid) <> e.refobjid  -- a view's rule on its view
