import{c as a,d as b,e as c,f as d}from"./chunk-RYCF4M7Y.js";import"./chunk-GY5VVY2F.js";export{a as QUIET_ERRORS,d as firstRequest,c as wantComeBack,b as wantDanger};
