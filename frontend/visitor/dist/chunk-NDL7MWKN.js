import{c as a,d as b,e as c,f as d}from"./chunk-YKLOAMER.js";import"./chunk-IJCO7WPT.js";export{a as QUIET_ERRORS,d as firstRequest,c as wantComeBack,b as wantDanger};
